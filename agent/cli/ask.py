"""`ask`, `chat`, `tools` and `config check`: the commands that use the agent from a terminal."""

from __future__ import annotations

import json
import sys

import anyio
import click

from agent.app import open_agent, open_toolbox
from agent.cli.common import load, run_async
from agent.loop import Session
from agent.trace import RunResult, render_trace

__all__ = ["COMMANDS"]


def _echo_piece(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


@click.command()
@click.argument("question")
@click.option("--trace", is_flag=True, help="Show each step, its tool calls and timings (on stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and the trace as JSON.")
@click.option("--no-stream", is_flag=True, help="Print the answer only when it is complete.")
@click.pass_context
def ask(ctx: click.Context, question: str, trace: bool, as_json: bool, no_stream: bool) -> None:
    """Answer one QUESTION and exit."""
    config = load(ctx)
    stream = not (as_json or no_stream)

    async def main() -> RunResult:
        async with open_agent(config) as runtime:
            return await runtime.agent.run(question, on_text=_echo_piece if stream else None)

    result = run_async(main)
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    click.echo("" if stream else result.answer)
    if trace:
        click.echo(render_trace(result), err=True)


@click.command()
@click.option("--trace", is_flag=True, help="Show each answer's steps and timings.")
@click.pass_context
def chat(ctx: click.Context, trace: bool) -> None:
    """Ask follow-up questions in one conversation (Ctrl-D or /exit to leave)."""
    config = load(ctx)

    async def main() -> None:
        async with open_agent(config) as runtime:
            session = Session(runtime.agent)
            click.echo("Ask about your tools. /reset starts over, /exit leaves.", err=True)
            while True:
                try:
                    line = await anyio.to_thread.run_sync(input, "> ")
                except EOFError:
                    click.echo("", err=True)
                    return
                line = line.strip()
                if line in ("/exit", "/quit"):
                    return
                if line == "/reset":
                    session = Session(runtime.agent)
                    continue
                if not line:
                    continue
                result = await session.ask(line, on_text=_echo_piece)
                click.echo("")
                if trace:
                    click.echo(render_trace(result), err=True)

    run_async(main)


@click.command()
@click.pass_context
def tools(ctx: click.Context) -> None:
    """List the tools the configured MCP servers offer, with their prompt cost."""
    config = load(ctx)

    async def main() -> None:
        async with open_toolbox(config) as toolbox:
            specs = await toolbox.list_tools()
        total = 0
        for spec in specs:
            size = len(json.dumps(spec.model_dump(include={"name", "description", "parameters"})))
            total += size
            flags = (
                "read-only" if spec.read_only else ("WRITES" if spec.destructive is not False else "writes")
            )
            click.echo(
                f"{spec.name:<34} {flags:<9} {spec.description.splitlines()[0] if spec.description else ''}"
            )
        click.echo(f"{len(specs)} tools, about {int(total / 3.5)} prompt tokens of definitions", err=True)

    run_async(main)


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@click.option("--connect", is_flag=True, help="Also start every MCP server and list its tools.")
@click.pass_context
def config_check(ctx: click.Context, connect: bool) -> None:
    """Validate the config file and say what it sets up."""
    config = load(ctx.find_root())
    for name, model in config.models.items():
        where = model.source if model.backend == "llama_cpp" else model.url
        click.echo(
            f"model {name}: {model.backend} {where} (n_ctx {model.n_ctx}, gpu layers {model.n_gpu_layers})"
        )
    click.echo(f"answering model: {config.agent.model} (router mode {config.router.mode})")
    for name, server in config.mcpServers.items():
        target = server.command if server.transport == "stdio" else server.url
        click.echo(f"server {name}: {server.transport} {target}" + (" (disabled)" if server.disabled else ""))
    if connect:

        async def main() -> None:
            async with open_toolbox(config) as toolbox:
                for toolset in toolbox.toolsets:
                    found = await toolset.list_tools()
                    click.echo(f"server {toolset.name}: {len(found)} tools")

        run_async(main)
    click.echo("config OK")


COMMANDS: list[click.Command] = [ask, chat, tools, config_group]
