"""`homelab-agent-docker`: the read-only Docker MCP server over stdio or streamable HTTP.

The only place that reads the environment (DOCKER_HOST, DOCKER_TIMEOUT, DOCKER_LOG_LINES,
DOCKER_MAX_LOG_LINES, DOCKER_MAX_LOG_CHARS, DOCKER_REACHABLE_TTL: `DockerSettings.from_env`) and
configures logging: structlog to stderr, because stdout carries the stdio MCP protocol.
"""

from __future__ import annotations

import os

import click
import uvicorn
from pydantic import ValidationError

from homelab_common.logs import configure_logging

from .server import build_server
from .settings import DockerSettings

__all__ = ["main"]


@click.command()
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP transport: address to listen on.")
@click.option("--port", default=8091, show_default=True, help="HTTP transport: port to listen on.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    envvar="DOCKER_MCP_LOG_LEVEL",
    help="Logging to stderr; info logs every tool call.",
)
def main(transport: str, host: str, port: int, log_level: str) -> None:
    """Serve read-only Docker tools to MCP clients (the Engine at DOCKER_HOST, default the local socket)."""
    configure_logging(log_level, "console")
    try:
        settings = DockerSettings.from_env(os.environ)
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(_config_message(exc)) from None
    server = build_server(settings)
    if transport == "stdio":
        server.run("stdio")
        return
    click.echo(f"Docker MCP server at http://{host}:{port}/mcp (Docker at {settings.where})", err=True)
    uvicorn.run(server.streamable_http_app(host=host), host=host, port=port, log_config=None)


def _config_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


if __name__ == "__main__":
    main()
