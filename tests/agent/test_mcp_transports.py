"""MCP servers over streamable HTTP and legacy SSE, with headers, as configured in the config file."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.config import ServerSettings
from agent.toolsets.mcp import MCPToolset
from tests.support.http_servers import serve_app
from tests.support.notes_server import build_server


class RequireHeader:
    """Refuse every HTTP request without `Authorization: Bearer sesame`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"authorization", b"Bearer sesame") not in scope["headers"]:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"no"})
            return
        await self.app(scope, receive, send)


async def call_note(settings: ServerSettings) -> str:
    async with anyio.create_task_group() as tg:
        toolset = MCPToolset("notes", tg, settings=settings)
        names = [t.name for t in await toolset.list_tools()]
        result = await toolset.call_tool("get_note", {"topic": "router"})
        await toolset.aclose()
        tg.cancel_scope.cancel()
    assert "get_note" in names
    return result.text


async def test_a_streamable_http_server_is_reached_with_the_configured_headers() -> None:
    with serve_app(RequireHeader(build_server().streamable_http_app())) as base:
        settings = ServerSettings(url=f"{base}/mcp", headers={"Authorization": "Bearer sesame"})  # type: ignore[dict-item]
        assert settings.transport == "streamable-http"
        assert "OPNsense" in await call_note(settings)


async def test_a_legacy_sse_server_is_reached_by_its_sse_url() -> None:
    with serve_app(build_server().sse_app()) as base:
        settings = ServerSettings(url=f"{base}/sse")
        assert settings.transport == "sse"
        assert "OPNsense" in await call_note(settings)


async def test_wrong_headers_give_a_clear_server_error_not_a_hang() -> None:
    from agent.exceptions import ToolServerError

    with serve_app(RequireHeader(build_server().streamable_http_app())) as base:
        settings = ServerSettings(url=f"{base}/mcp", connect_timeout_s=10)
        async with anyio.create_task_group() as tg:
            toolset = MCPToolset("notes", tg, settings=settings)
            try:
                await toolset.list_tools()
            except ToolServerError as exc:
                message = str(exc)
            else:
                message = ""
            tg.cancel_scope.cancel()
    assert "MCP server 'notes'" in message
    assert "HTTP 401: check the token in this server's headers" in message


def test_the_http_client_keeps_the_mcp_sdks_default_timeouts_and_redirects() -> None:
    # the SDK's factory is private (`mcp.shared._httpx_utils`): we build our own client and this
    # test says when the SDK's defaults move away from ours
    from mcp.shared._httpx_utils import create_mcp_http_client

    from agent.toolsets.mcp import _http_client

    ours, sdks = _http_client({"X-Token": "t"}, lambda status: None), create_mcp_http_client()
    assert ours.timeout == sdks.timeout and ours.follow_redirects == sdks.follow_redirects
    assert ours.headers["X-Token"] == "t" and len(ours.event_hooks["response"]) == 1
