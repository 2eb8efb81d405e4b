"""`serve`: the agent as an MCP server over stdio, or the HTTP server (MCP, OpenAI API, metrics)."""

from __future__ import annotations

import click

from agent.app import open_agent
from agent.cli.common import fail, load, run_async
from agent.exceptions import ConfigError
from agent.serve.auth import check_bind
from agent.serve.http import listen, serve_http
from agent.serve.mcp_server import build_mcp_server
from agent.serve.service import Service

__all__ = ["COMMANDS", "DEFAULT_STORE"]

DEFAULT_STORE = "~/.local/state/homelab-agent/serve.sqlite3"
"""Where `serve --transport http` keeps conversations and pending approvals unless serve.store says."""


@click.command()
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio: an MCP server for Claude Desktop-style clients. http: MCP at /mcp, /v1, /metrics.",
)
@click.option("--host", default=None, help="Override serve.host (http only).")
@click.option("--port", type=int, default=None, help="Override serve.port (http only).")
@click.pass_context
def serve(ctx: click.Context, transport: str, host: str | None, port: int | None) -> None:
    """Serve the agent: over stdio to one MCP client, or over HTTP to many."""
    config = load(ctx)
    settings = config.serve
    sock = None
    if transport == "http":  # refuse a bad bind before loading models and starting servers
        token = settings.bearer_token.get_secret_value() if settings.bearer_token else None
        try:
            check_bind(host or settings.host, token)
            sock = listen(host or settings.host, settings.port if port is None else port)
        except ConfigError as exc:
            fail(str(exc), 2)

    async def main() -> None:
        async with open_agent(config) as runtime:
            store = settings.store or (DEFAULT_STORE if transport == "http" else ":memory:")
            service = Service(runtime, settings.model_copy(update={"store": store}))
            try:
                if transport == "stdio":
                    await build_mcp_server(service).run_stdio_async()
                else:
                    await serve_http(service, host, port, sock)
            finally:
                await service.aclose()

    run_async(main)


COMMANDS: list[click.Command] = [serve]
