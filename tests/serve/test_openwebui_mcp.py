"""Open WebUI 0.12.4's MCP client, as it calls a tool server, against the agent's /mcp and Kanboard's.

Open WebUI (`open_webui/utils/mcp/client.py`, External Tools of type "MCP Streamable HTTP") builds
an httpx client with the connection's headers and `Timeout(30, read=300)`, opens the SDK's `Client`
over `streamable_http_client` with `read_timeout_seconds=10` (its MCP_INITIALIZE_TIMEOUT; mode
"auto"), pages `tools/list` by cursor, and calls a tool with no read timeout, raising on an error
result. `OpenWebUIClient` below does exactly that; `benchmarks/openwebui/mcp_check.py` runs Open
WebUI's own class against the real servers.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from tests.serve.conftest import TOKEN, running, served
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings

QUESTION = "What is overdue in the Homelab project?"


@asynccontextmanager
async def openwebui_client(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """An MCP client connected the way Open WebUI 0.12.4's `MCPClient.connect` connects."""
    async with (
        httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http,
        Client(streamable_http_client(url, http_client=http), read_timeout_seconds=10) as client,
    ):
        yield client


async def tool_specs(client: Client) -> list[dict[str, Any]]:
    """`MCPClient.list_tool_specs`: every page of tools/list, as name/description/parameters."""
    tools, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return [{"name": t.name, "description": t.description, "parameters": t.input_schema} for t in tools]


async def call(client: Client, name: str, arguments: dict[str, Any]) -> list[str]:
    """`MCPClient.call_tool`: no read timeout, an error result raised, the content's texts."""
    result = await client.call_tool(name, arguments, read_timeout_seconds=math.inf)
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    if result.is_error:
        raise AssertionError("\n".join(texts) or "MCP tool call returned an error.")
    return texts


@asynccontextmanager
async def kanboard_over_http() -> AsyncIterator[str]:
    """`homelab-agent-kanboard --transport http` on the demo board, on a free loopback port."""
    app = build_server(KanboardSettings()).streamable_http_app(host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.should_exit = True


async def test_open_webuis_mcp_client_lists_and_calls_the_kanboard_servers_tools() -> None:
    async with kanboard_over_http() as url, openwebui_client(url) as client:
        specs = await tool_specs(client)
        texts = await call(client, "overdue_tasks", {"project": "Homelab"})
    names = {s["name"] for s in specs}
    assert {"overdue_tasks", "list_projects", "search_tasks", "show_board"} <= names
    assert all(s["parameters"]["type"] == "object" for s in specs)
    answer = "\n".join(texts)
    assert "Overdue tasks in Homelab" in answer and "Rotate WireGuard keys" in answer


async def test_open_webuis_mcp_client_lists_and_calls_ask_on_the_agent_with_its_token() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Replace UPS battery is overdue."])
    async with (
        served(model, bearer_token=TOKEN) as service,
        running(service) as base,
        openwebui_client(f"{base}/mcp", {"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        specs = await tool_specs(client)
        texts = await call(client, "ask", {"question": QUESTION})
    assert [s["name"] for s in specs] == ["ask"]
    assert "question" in specs[0]["parameters"]["properties"]
    assert texts == ["Replace UPS battery is overdue."]
