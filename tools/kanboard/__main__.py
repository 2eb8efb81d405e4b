"""`homelab-agent-kanboard`: the Kanboard MCP server over stdio or streamable HTTP, or the demo board.

The only place that reads the environment (KANBOARD_URL, KANBOARD_TOKEN or KANBOARD_USERNAME +
KANBOARD_PASSWORD, KANBOARD_ENABLE_WRITES, KANBOARD_TIMEOUT, KANBOARD_NAMES, KANBOARD_INDEX_TTL,
KANBOARD_INDEX_FULL: `KanboardSettings.from_env`) and configures logging: structlog to stderr,
because stdout carries the stdio MCP protocol.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from homelab_common.logs import configure_logging
from homelab_common.servers import load_settings, serve, serve_http, server_options
from tools.kanboard_demo import DEMO_TOKEN, DemoBoard, create_app, load_seed

from .server import build_server
from .settings import KanboardSettings

__all__ = ["main"]


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@server_options(
    port=8090, log_envvar="KANBOARD_LOG_LEVEL", log_help="Logging to stderr; info logs every Kanboard call."
)
@click.pass_context
def main(ctx: click.Context, transport: str, host: str, port: int, log_level: str) -> None:
    """Serve Kanboard to MCP clients. Without KANBOARD_URL, serves a built-in demo board."""
    secrets = [os.environ.get(k, "") for k in ("KANBOARD_TOKEN", "KANBOARD_PASSWORD")]
    configure_logging(log_level, "console", secrets=[s for s in secrets if s])
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings(lambda: KanboardSettings.from_env(os.environ))
    banner = f"Kanboard MCP server at http://{host}:{port}/mcp (writes {settings.enable_writes})"
    serve(build_server(settings), transport, host, port, banner)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve this board (a seed file shaped like the demo's seed.json) instead of the demo board.",
)
def demo(host: str, port: int, seed: Path | None) -> None:
    """Serve the demo board as a Kanboard JSON-RPC endpoint at http://HOST:PORT/jsonrpc.php."""
    click.echo(
        f"Demo Kanboard at http://{host}:{port}/jsonrpc.php (user jsonrpc, token {DEMO_TOKEN})", err=True
    )
    serve_http(create_app(DemoBoard(load_seed(seed))), host, port)


if __name__ == "__main__":
    main()
