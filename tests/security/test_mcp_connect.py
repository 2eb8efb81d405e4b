"""Row 8 of issue 12: requests cancelled while an MCP server starts leave no orphaned processes."""

from __future__ import annotations

import sys

import anyio
import psutil

from agent.config import ServerSettings
from agent.toolsets.mcp import MCPToolset
from tests.conftest import ROOT


def servers_running() -> list[psutil.Process]:
    """Our notes-server subprocesses that are alive."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "tests.support.notes_server" in " ".join(child.cmdline()) and child.status() != "zombie":
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


async def test_ten_requests_cancelled_while_the_server_starts_leave_one_server_then_none() -> None:
    settings = ServerSettings(
        command=sys.executable, args=["-m", "tests.support.notes_server"], cwd=str(ROOT), connect_timeout_s=20
    )
    async with anyio.create_task_group() as tg:
        toolset = MCPToolset("notes", tg, settings=settings)
        for _ in range(10):
            with anyio.move_on_after(0.05):
                await toolset.list_tools()  # cancelled while the server process is still starting
        tools = await toolset.list_tools()  # the one server that was started is used
        await anyio.sleep(1.0)  # time for any stray start to show up
        during = len(servers_running())
        await toolset.aclose()
        with anyio.fail_after(10):
            while servers_running():  # noqa: ASYNC110 (polls the operating system)
                await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    assert "search" in [t.name for t in tools]
    assert during == 1
    assert toolset.starts == 1
