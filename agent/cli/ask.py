"""`ask`, `chat`, `tools` and `config check`: the commands that use the agent from a terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import click

from agent.app import open_agent, open_toolbox
from agent.cli.common import fail, load, run_async
from agent.config import Config
from agent.exceptions import ConfigError
from agent.loop import Session
from agent.models.catalog import KNOWN_MODELS
from agent.models.factory import model_path
from agent.models.settings import ModelSettings
from agent.tokens import estimate_tokens
from agent.trace import RunResult, render_trace
from homelab_common.redact import redact_url

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
        definitions = ""
        for spec in specs:
            definitions += json.dumps(spec.model_dump(include={"name", "description", "parameters"}))
            flags = (
                "read-only" if spec.read_only else ("WRITES" if spec.destructive is not False else "writes")
            )
            click.echo(
                f"{spec.name:<34} {flags:<9} {spec.description.splitlines()[0] if spec.description else ''}"
            )
        tokens = estimate_tokens(definitions)
        click.echo(f"{len(specs)} tools, about {tokens} prompt tokens of definitions", err=True)

    run_async(main)


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@click.option("--connect", is_flag=True, help="Also start every MCP server and list its tools.")
@click.pass_context
def config_check(ctx: click.Context, connect: bool) -> None:
    """Validate the config file, say what it sets up, and check the model files are there."""
    config = load(ctx.find_root())
    used = config.used_models()
    problems = 0
    for name, model in config.models.items():
        lines = _describe_model(config, name, model)
        if name not in used:
            lines[0] += f" (not used: agent.model = {config.agent.model!r})"
        elif lines[1:] and lines[1].startswith("  missing"):
            problems += 1
        for line in lines:
            click.echo(line)
    click.echo(f"answering model: {config.agent.model} (router mode {config.router.mode})")
    for name, server in config.mcpServers.items():
        target = server.command if server.transport == "stdio" else redact_url(server.url or "")
        note = " (disabled)" if server.disabled else ""
        note = " (this agent itself: left out)" if server.serves_this_agent() else note
        click.echo(f"server {name}: {server.transport} {target}{note}")
    if connect:

        async def main() -> None:
            async with open_toolbox(config) as toolbox:
                for toolset in toolbox.toolsets:
                    found = await toolset.list_tools()
                    click.echo(f"server {toolset.name}: {len(found)} tools")

        run_async(main)
    if problems:
        fail(f"{problems} model file(s) missing; the config is valid, but the agent cannot start")
    click.echo("config OK")


def _describe_model(config: Config, name: str, model: ModelSettings) -> list[str]:
    """Lines about one model: its backend and settings, and whether its file is there."""
    if model.backend == "openai":
        remote = model.remote_model or name
        url = ", ".join(redact_url(u) for u in model.all_urls)
        return [
            f"model {name}: openai {url} (model {remote!r}, constraint {model.constraint}, "
            f"timeout {model.timeout_s:g}s)"
        ]
    settings = f"n_ctx {model.n_ctx}, gpu layers {model.n_gpu_layers}"
    first = f"model {name}: llama_cpp {model.source or name} ({settings})"
    try:
        path = model_path(model, name, Path(config.models_dir).expanduser())
    except ConfigError as exc:
        return [first, f"  missing: {exc}"]
    if path.is_file():
        return [first, f"  file: {path}"]
    source = model.source or name
    pull = source if source in KNOWN_MODELS or source.startswith("hf:") else None
    fix = f"run `homelab-agent models pull {pull}`" if pull else f"fix models.{name}.source"
    return [first, f"  missing: no model file at {path}; {fix}"]


COMMANDS: list[click.Command] = [ask, chat, tools, config_group]
