"""`homelab-agent-kanboard`: the Kanboard MCP server over stdio or streamable HTTP, or the demo board.

The only place that reads the environment (KANBOARD_URL, KANBOARD_TOKEN or KANBOARD_USERNAME +
KANBOARD_PASSWORD, KANBOARD_ENABLE_WRITES, KANBOARD_TIMEOUT) and configures logging: structlog to
stderr, because stdout carries the stdio MCP protocol.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import structlog
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette

from .demo import DEMO_TOKEN, create_app
from .server import build_server
from .settings import KanboardSettings

__all__ = ["main"]

log = structlog.get_logger(__name__)


def _configure_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


@click.group(invoke_without_command=True)
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP transport: address to listen on.")
@click.option("--port", default=8090, show_default=True, help="HTTP transport: port to listen on.")
@click.option("-v", "--verbose", is_flag=True, help="Log every Kanboard call (to stderr).")
@click.pass_context
def main(ctx: click.Context, transport: str, host: str, port: int, verbose: bool) -> None:
    """Serve Kanboard to MCP clients. Without KANBOARD_URL, serves a built-in demo board."""
    _configure_logging(verbose)
    if ctx.invoked_subcommand is not None:
        return
    try:
        settings = KanboardSettings.from_env(os.environ)
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(_config_message(exc)) from None
    server = build_server(settings)
    if transport == "stdio":
        server.run("stdio")
        return
    log.info("kanboard.serving", url=f"http://{host}:{port}/mcp", writes=settings.enable_writes)
    _serve_http(server.streamable_http_app(host=host), host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True)
def demo(host: str, port: int) -> None:
    """Serve the demo board as a Kanboard JSON-RPC endpoint at http://HOST:PORT/jsonrpc.php."""
    log.info(
        "kanboard.demo_serving", url=f"http://{host}:{port}/jsonrpc.php", user="jsonrpc", token=DEMO_TOKEN
    )
    _serve_http(create_app(), host, port)


def _serve_http(app: Starlette, host: str, port: int) -> None:
    """Serve an ASGI app with uvicorn, its logs going through logging to stderr (never stdout)."""
    uvicorn.run(app, host=host, port=port, log_config=None)


def _config_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


if __name__ == "__main__":
    main()
