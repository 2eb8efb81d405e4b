"""What the two tool servers (`tools.kanboard`, `tools.docker`) share: their plumbing, written once.

`server_options` is the command line both entry points take (transport, host, port, log level);
`load_settings` reads their settings, a bad one ending the command with one line
(`config_message`); `serve` runs a server over stdio or streamable HTTP (`serve_http`: an ASGI app
with its logs on stderr). `HttpClient` is the lifetime of a client over one `httpx.AsyncClient` (`async with`,
`aclose`). `tool_call` opens such a client for one tool call, logs the call with its time and turns
the server's own errors into MCP tool errors whose text says what to do. Nothing here knows
Kanboard or Docker, or reads the environment.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

import click
import httpx
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError
from starlette.applications import Starlette

__all__ = [
    "HttpClient",
    "config_message",
    "load_settings",
    "serve",
    "serve_http",
    "server_options",
    "tool_call",
]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound="HttpClient")
S = TypeVar("S")


def server_options(*, port: int, log_envvar: str, log_help: str) -> Callable[[F], F]:
    """The options of a tool server's command: --transport, --host, --port and --log-level."""

    def decorate(command: F) -> F:
        options = [
            click.option(
                "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True
            ),
            click.option(
                "--host", default="127.0.0.1", show_default=True, help="HTTP transport: address to listen on."
            ),
            click.option(
                "--port", default=port, show_default=True, help="HTTP transport: port to listen on."
            ),
            click.option(
                "--log-level",
                type=click.Choice(["debug", "info", "warning", "error"]),
                default="warning",
                show_default=True,
                envvar=log_envvar,
                help=log_help,
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def config_message(exc: Exception) -> str:
    """A settings error in one line (pydantic's messages without their "Value error, " prefix)."""
    if isinstance(exc, ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


def load_settings(load: Callable[[], S]) -> S:
    """The settings `load` reads; a bad one ends the command with its message in one line."""
    try:
        return load()
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(config_message(exc)) from None


def serve(server: MCPServer, transport: str, host: str, port: int, banner: str) -> None:
    """Run `server` over stdio, or over streamable HTTP at host:port after saying `banner` on stderr."""
    if transport == "stdio":
        server.run("stdio")
        return
    click.echo(banner, err=True)
    serve_http(server.streamable_http_app(host=host), host, port)


def serve_http(app: Starlette, host: str, port: int) -> None:
    """Serve an ASGI app with uvicorn, its logs going through logging to stderr (never stdout)."""
    uvicorn.run(app, host=host, port=port, log_config=None)


class HttpClient:
    """A client over one `httpx.AsyncClient` (`self._http`); use as `async with Client(...) as c:`."""

    _http: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()


@asynccontextmanager
async def tool_call(
    client: C, tool: str, *, log: Any, event: str, errors: type[Exception]
) -> AsyncIterator[C]:
    """`client` for one tool call, closed after it; `event` logged with the call's outcome and time,
    and the server's `errors` raised as `ToolError`s (an MCP tool error the model reads)."""
    started = time.perf_counter()
    try:
        async with client:
            yield client
    except errors as exc:
        log.info(event, tool=tool, ok=False, error=type(exc).__name__)
        raise ToolError(str(exc)) from None
    log.info(event, tool=tool, ok=True, ms=round((time.perf_counter() - started) * 1000))
