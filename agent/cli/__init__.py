"""The `homelab-agent` command line: a click group whose subcommands live in sibling modules."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="HOMELAB_AGENT_CONFIG",
    help="Config file (TOML, or a claude_desktop_config.json).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Override logging.level.",
)
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), default=None, help="Override logging.format."
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str | None, log_format: str | None) -> None:
    """Ask a local open-weight model questions about your own tools, over MCP."""
    ctx.obj = {"config_path": config_path, "log_level": log_level, "log_format": log_format}


def _register() -> None:
    from agent.cli import ask, doctor, models, serve

    for module in (ask, doctor, models, serve):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
