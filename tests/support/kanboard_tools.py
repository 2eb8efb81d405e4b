"""The Kanboard server's real tool specs, listed from the server in-process: one source for tests.

Listed on the demo board with names left out of the schemas (`names="off"`), so the specs do not
depend on a board's projects and people.
"""

from __future__ import annotations

import anyio

from agent.messages import ToolSpec
from agent.toolsets.mcp import list_server_tools
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings


async def kanboard_tools(*, writes: bool = False) -> list[ToolSpec]:
    """Every Kanboard tool as the agent sees it (`kanboard__NAME`), write tools with `writes`."""
    server = build_server(KanboardSettings(names="off", enable_writes=writes))
    return await list_server_tools({"kanboard": server})


def some_kanboard_tools(*names: str) -> list[ToolSpec]:
    """The named Kanboard tools (`overdue_tasks`, ...), in that order; for module-level constants."""
    listed = {t.name: t for t in anyio.run(kanboard_tools)}
    return [listed[f"kanboard__{name}"] for name in names]
