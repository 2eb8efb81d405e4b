"""`homelab-agent-docker`: the read-only Docker MCP server over stdio or streamable HTTP.

The only place that reads the environment (DOCKER_HOST, DOCKER_TIMEOUT, DOCKER_LOG_LINES,
DOCKER_MAX_LOG_LINES, DOCKER_MAX_LOG_CHARS, DOCKER_REACHABLE_TTL: `DockerSettings.from_env`) and
configures logging: structlog to stderr, because stdout carries the stdio MCP protocol.
"""

from __future__ import annotations

import os

import click

from homelab_common.logs import configure_logging
from homelab_common.servers import load_settings, serve, server_options

from .server import build_server
from .settings import DockerSettings

__all__ = ["main"]


@click.command()
@server_options(
    port=8091, log_envvar="DOCKER_MCP_LOG_LEVEL", log_help="Logging to stderr; info logs every tool call."
)
def main(transport: str, host: str, port: int, log_level: str) -> None:
    """Serve read-only Docker tools to MCP clients (the Engine at DOCKER_HOST, default the local socket)."""
    configure_logging(log_level, "console")
    settings = load_settings(lambda: DockerSettings.from_env(os.environ))
    banner = f"Docker MCP server at http://{host}:{port}/mcp (Docker at {settings.where})"
    serve(build_server(settings), transport, host, port, banner)


if __name__ == "__main__":
    main()
