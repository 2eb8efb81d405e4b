"""MCP servers as toolsets: connect, list, call, time out, and restart after a crash.

Each server connection lives in its own background task (MCP transports hold task groups that must
be entered and exited by the same task), started on first use and again after a failure. Callers
that arrive while a start is in flight wait for that start instead of beginning another, and a
caller cancelled while it waits leaves the start running for the next one, so cancelled requests
never leave servers behind. A server that crashes or hangs becomes a
`ToolServerError`/`ToolTimeoutError` for the model; the next call starts it afresh. URLs in error
messages are shown without their credentials. This module does not decide which tools a model
sees: see `agent.toolsets.base`.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import httpx2
import structlog
from anyio.abc import TaskGroup
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from agent.config import ServerSettings
from agent.exceptions import ToolServerError, ToolTimeoutError
from agent.grounding import NAMES_META
from agent.messages import ToolResult, ToolSpec
from agent.toolsets.base import Toolbox
from homelab_common.redact import redact_url, redact_urls

__all__ = ["MCPToolset", "list_server_tools"]

log = structlog.get_logger(__name__)

MCP_TIMEOUT_S = 30.0  # the SDK's default for connect, write and pool
MCP_READ_TIMEOUT_S = 300.0  # the SDK's default read timeout: a response stream may stay open


def _command(command: str) -> str:
    """`command` as found on PATH, or beside this Python (a venv's scripts when it is not activated)."""
    if shutil.which(command) is None:
        sibling = Path(sys.executable).parent / command
        if sibling.exists():
            return str(sibling)
    return command


def _client_for(settings: ServerSettings, on_status: Callable[[int], None]) -> Client:
    if settings.transport == "stdio":
        assert settings.command is not None
        params = StdioServerParameters(
            command=_command(settings.command),
            args=settings.args,
            env={k: v.get_secret_value() for k, v in settings.env.items()} or None,
            cwd=settings.cwd,
        )
        return Client(params, mode="legacy")
    assert settings.url is not None
    headers = {k: v.get_secret_value() for k, v in settings.headers.items()}
    if settings.transport == "sse":
        return Client(sse_client(settings.url, headers=headers or None), mode="legacy")
    return Client(streamable_http_client(settings.url, http_client=_http_client(headers, on_status)))


def _http_client(headers: Mapping[str, str], on_status: Callable[[int], None]) -> httpx2.AsyncClient:
    """The HTTP client of a streamable-HTTP server, reporting each response's status to `on_status`.

    The SDK's own defaults, kept: 30 s to connect, write and wait for a connection, 300 s to read (a
    server may hold a response stream open), redirects left to the transport (it follows them only
    within the endpoint's origin).
    """

    async def record(response: httpx2.Response) -> None:
        on_status(response.status_code)

    return httpx2.AsyncClient(
        headers=dict(headers) or None,
        timeout=httpx2.Timeout(MCP_TIMEOUT_S, read=MCP_READ_TIMEOUT_S),
        event_hooks={"response": [record]},
    )


def _spec(tool: Any) -> ToolSpec:
    annotations = tool.annotations
    parameters = tool.input_schema or {"type": "object", "properties": {}}
    names = _names(tool.meta, parameters)
    if names:  # the names go to grounding, not into the prompt: their enums are dropped here
        parameters = copy.deepcopy(parameters)
        for name in names:
            parameters["properties"][name].pop("enum", None)
    return ToolSpec(
        name=tool.name,
        description=(tool.description or "").strip(),
        parameters=parameters,
        read_only=annotations.read_only_hint if annotations else None,
        destructive=annotations.destructive_hint if annotations else None,
        names=names,
    )


def _names(meta: Any, parameters: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The names a server lists under `NAMES_META` for parameters the schema has (strings only)."""
    listed = meta.get(NAMES_META) if isinstance(meta, dict) else None
    if not isinstance(listed, dict):
        return {}
    properties = parameters.get("properties") or {}
    return {
        name: tuple(values)
        for name, values in listed.items()
        if name in properties
        and isinstance(properties[name], dict)
        and isinstance(values, list)
        and values
        and all(isinstance(v, str) for v in values)
    }


def _result(result: CallToolResult) -> ToolResult:
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    others = [block.type for block in result.content if not isinstance(block, TextContent)]
    structured = result.structured_content if isinstance(result.structured_content, dict) else None
    text = "\n".join(texts)
    if not text and structured is not None:
        text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
    if others:
        text += f"\n[{len(others)} non-text item(s) left out: {', '.join(sorted(set(others)))}]"
    return ToolResult(text=text.strip(), is_error=result.is_error, structured=structured)


class MCPToolset:
    """One MCP server: stdio, streamable HTTP, SSE, or an in-process `MCPServer`.

    Use inside the task group that owns the connection tasks (`agent.app.open_agent` does this).
    """

    def __init__(
        self,
        name: str,
        task_group: TaskGroup,
        *,
        settings: ServerSettings | None = None,
        server: MCPServer | None = None,
        timeout_s: float | None = None,
        connect_timeout_s: float | None = None,
        tools_ttl_s: float | None = None,
    ) -> None:
        if (settings is None) == (server is None):
            raise ValueError("give exactly one of settings= or server=")
        self.name = name
        self._settings = settings
        self._server = server
        self._tg = task_group
        self._timeout = timeout_s or (settings.timeout_s if settings else 30.0)
        self._connect_timeout = connect_timeout_s or (settings.connect_timeout_s if settings else 20.0)
        self._client: Client | None = None
        self._attempt: anyio.Event | None = None  # set when the start in flight is ready or failed
        self._deadline = 0.0  # when the start in flight times out
        self._scope: anyio.CancelScope | None = None  # the connection task's, to stop a stuck one
        self._stop: anyio.Event | None = None
        self._done: anyio.Event | None = None
        self._failure: BaseException | None = None
        self._lock = anyio.Lock()
        self._tools: list[ToolSpec] | None = None
        self._listed_at = 0.0
        self._tools_ttl = (
            tools_ttl_s if tools_ttl_s is not None else (settings.tools_ttl_s if settings else 60.0)
        )
        self._http_error: int | None = None  # the last HTTP error status of a remote server
        self.starts = 0  # how many times the server was (re)started

    def _new_client(self) -> Client:
        if self._server is not None:
            return Client(self._server, raise_exceptions=False)
        assert self._settings is not None
        return _client_for(self._settings, self._record_status)

    def _record_status(self, status: int) -> None:
        self._http_error = status if status >= 400 else None

    def _why(self, exc: BaseException | None) -> str:
        if self._http_error in (401, 403):
            return f"HTTP {self._http_error}: check the token in this server's headers in the config"
        if self._http_error is not None:
            url = redact_url(self._settings.url) if self._settings and self._settings.url else "the server"
            return f"HTTP {self._http_error} from {url}"
        return _describe(exc)

    async def _own(self, ready: anyio.Event, stop: anyio.Event, done: anyio.Event) -> None:
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                async with self._new_client() as client:
                    self._client = client
                    ready.set()
                    await stop.wait()
            except Exception as exc:  # the server died, or never started: report it on the next call
                self._failure = exc
            finally:
                self._client = None
                if self._attempt is ready:
                    self._attempt = None  # the next call starts the server afresh
                ready.set()
                done.set()

    async def _connect(self) -> Client:
        async with self._lock:
            if self._client is not None:
                return self._client
            if self._attempt is None:  # nobody is starting the server: start it
                ready, self._stop, self._done = anyio.Event(), anyio.Event(), anyio.Event()
                self._attempt, self._deadline = ready, anyio.current_time() + self._connect_timeout
                self._failure = None
                self.starts += 1
                log.info("mcp.connect", server=self.name, attempt=self.starts)
                self._tg.start_soon(self._own, ready, self._stop, self._done)
            ready = self._attempt
        # a caller cancelled here leaves the start to finish for the next caller
        with anyio.move_on_at(self._deadline) as waited:
            await ready.wait()
        if waited.cancelled_caught:
            async with self._lock:
                if self._attempt is ready:
                    await self._reset()
            raise ToolServerError(
                f"MCP server {self.name!r} did not start within {self._connect_timeout:.0f}s; "
                "check its command/url in the config"
            )
        if self._client is None:
            raise ToolServerError(f"MCP server {self.name!r} could not start: {self._why(self._failure)}")
        return self._client

    async def _reset(self) -> None:
        """Stop the connection task (a stuck one by cancelling it); the next use starts the server again."""
        if self._stop is not None:
            self._stop.set()
        if self._done is not None:
            with anyio.move_on_after(5):
                await self._done.wait()
            if not self._done.is_set() and self._scope is not None:
                self._scope.cancel()
                with anyio.move_on_after(5):
                    await self._done.wait()
        self._client = None

    async def list_tools(self) -> list[ToolSpec]:
        """The server's tools, listed again once the last listing is `tools_ttl_s` old.

        Servers may put live data in their schemas (the Kanboard server names the board's projects
        and people), so a long-running agent sees a board's new names within that time. A server
        that answers the listing with an error (the Docker server whose engine is not there) stays
        connected; the error, its reason, is raised as `ToolServerError` and nothing is cached, so
        the next listing asks again.
        """
        if self._tools is None or time.monotonic() - self._listed_at > self._tools_ttl:
            client = await self._connect()
            try:
                with anyio.fail_after(self._timeout):
                    listing = await client.list_tools()
            except TimeoutError:
                await self._reset()
                raise ToolServerError(f"MCP server {self.name!r} did not list its tools in time") from None
            except MCPError as exc:  # it answered, so it runs: it cannot serve now (its engine is down)
                raise ToolServerError(exc.message) from None
            except Exception as exc:
                await self._reset()
                raise ToolServerError(
                    f"MCP server {self.name!r} failed to list tools: {self._why(exc)}"
                ) from None
            self._tools = [_spec(t) for t in listing.tools]
            self._listed_at = time.monotonic()
        return list(self._tools)

    async def instructions(self) -> str:
        """The `instructions` the server sent when it started ("" when it sent none)."""
        client = await self._connect()
        return (client.instructions or "").strip()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Call `name`; a crash or hang becomes a `ToolError` and the server restarts on next use."""
        client = await self._connect()
        try:
            with anyio.fail_after(self._timeout):
                result = await client.call_tool(name, arguments)
        except TimeoutError:
            await self._reset()
            raise ToolTimeoutError(
                f"tool {name!r} on server {self.name!r} did not answer within {self._timeout:.0f}s; "
                "the server will be restarted on the next call"
            ) from None
        except Exception as exc:
            await self._reset()
            raise ToolServerError(
                f"MCP server {self.name!r} failed during {name!r}: {self._why(exc)}; "
                "it will be restarted on the next call"
            ) from None
        return _result(result)

    async def aclose(self) -> None:
        """Stop the server connection."""
        await self._reset()


async def list_server_tools(servers: Mapping[str, MCPServer], *, prefix: bool = True) -> list[ToolSpec]:
    """The tools of in-process MCP `servers` (by name), exactly as the agent lists them (`NAME__TOOL`).

    For tests and benchmarks that need a server's real tool specs without hand-copying them.
    """
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset(name, tg, server=server) for name, server in servers.items()], prefix)
        try:
            tools = await toolbox.list_tools()
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()
    return tools


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "the connection closed"
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, (httpx2.ConnectError, OSError)):
        return f"cannot connect ({redact_urls(str(exc))})"
    text = redact_urls(str(exc)) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"
