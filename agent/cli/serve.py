"""`serve`: the agent as an MCP server over stdio, or the HTTP server (MCP, OpenAI API, metrics).

Test hook (tests only, not a feature): with `HOMELAB_AGENT_FAKE_MODEL=echo` in the environment the
configured models are not loaded and a `ScriptedModel` answers "echo: QUESTION (N tools)". It lets a
test launch the real command as a subprocess (as Claude Desktop does) on a machine without weights.
This is the only place that reads it; nothing deeper looks at the environment.
"""

from __future__ import annotations

import os

import click

from agent.app import open_agent
from agent.cli.common import fail, load, run_async
from agent.exceptions import ConfigError
from agent.messages import Message, ToolSpec
from agent.models.base import Model
from agent.models.scripted import ScriptedModel, Turn
from agent.serve.auth import check_bind
from agent.serve.http import listen, serve_http
from agent.serve.mcp_server import build_mcp_server
from agent.serve.service import Service

__all__ = ["COMMANDS", "FAKE_MODEL_ENV"]

FAKE_MODEL_ENV = "HOMELAB_AGENT_FAKE_MODEL"


def _echo(messages: list[Message], tools: list[ToolSpec]) -> Turn:
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return f"echo: {question} ({len(tools)} tools)"


def _test_model() -> Model | None:
    """The scripted stand-in named by HOMELAB_AGENT_FAKE_MODEL (tests only), or None."""
    kind = os.environ.get(FAKE_MODEL_ENV)
    if not kind:
        return None
    if kind != "echo":
        fail(f"{FAKE_MODEL_ENV}={kind!r} is not a known test model (only 'echo')", 2)
    return ScriptedModel(function=_echo, model_name="echo")


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
    model = _test_model()

    async def main() -> None:
        async with open_agent(config, model=model) as runtime:
            service = Service(runtime, settings)
            if transport == "stdio":
                await build_mcp_server(service).run_stdio_async()
            else:
                await serve_http(service, host, port, sock)

    run_async(main)


COMMANDS: list[click.Command] = [serve]
