"""`models pull`, `models verify` and `models list`: get model files, check them, see what is installed.

Both work without a config file: the models directory is `--models-dir`, else the environment
variable HOMELAB_AGENT_MODELS_DIR, else the config's `models_dir`, else the default.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from agent.cli.common import fail
from agent.config import Config, load_config
from agent.exceptions import ConfigError, ModelError
from agent.models.catalog import KNOWN_MODELS, installed, pull, verify
from homelab_common.logs import configure_logging

__all__ = ["COMMANDS", "models_dir_for"]

DEFAULT_MODELS_DIR = Config.model_fields["models_dir"].default


def models_dir_for(ctx: click.Context, option: str | None) -> Path:
    """The models directory: the option (or its env var), the config's, or the default."""
    if option:
        return Path(option).expanduser()
    obj: dict[str, Any] = ctx.obj or {}
    configure_logging(obj.get("log_level") or "warning", obj.get("log_format") or "console")
    try:
        return Path(load_config(obj.get("config_path")).models_dir).expanduser()
    except ConfigError as exc:
        if obj.get("config_path"):
            fail(str(exc), 2)
        return Path(DEFAULT_MODELS_DIR).expanduser()


def _size(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB" if n >= 1024**3 else f"{n / 1024**2:.0f} MiB"


_models_dir_option = click.option(
    "--models-dir",
    type=click.Path(file_okay=False),
    envvar="HOMELAB_AGENT_MODELS_DIR",
    default=None,
    help="Where model files live (default: the config's models_dir, ~/.cache/homelab-agent/models).",
)


@click.group()
def models() -> None:
    """Download and list GGUF model files."""


@models.command("pull")
@click.argument("name")
@_models_dir_option
@click.option("--force", is_flag=True, help="Download again even if the file is there.")
@click.pass_context
def pull_command(ctx: click.Context, name: str, models_dir: str | None, force: bool) -> None:
    """Fetch NAME: a known model, hf:OWNER/REPO/FILE.gguf, or check a local .gguf path."""
    folder = models_dir_for(ctx, models_dir)
    try:
        path = pull(name, folder, force=force)
    except ModelError as exc:
        fail(str(exc))
    click.echo(f"{name}: {path} ({_size(path.stat().st_size)})")


@models.command("verify")
@click.argument("names", nargs=-1)
@_models_dir_option
@click.pass_context
def verify_command(ctx: click.Context, names: tuple[str, ...], models_dir: str | None) -> None:
    """Hash known models' files again and compare with their pinned sha256 (default: every one installed)."""
    folder = models_dir_for(ctx, models_dir)
    chosen = list(names) or [m.name for m in KNOWN_MODELS.values() if (folder / m.filename).is_file()]
    if not chosen:
        fail(f"no known model is installed in {folder}")
    bad = 0
    for name in chosen:
        try:
            path = verify(name, folder)
        except ModelError as exc:
            bad += 1
            click.echo(f"{name}: FAILED: {exc}", err=True)
        else:
            click.echo(f"{name}: {path} matches its sha256")
    if bad:
        sys.exit(1)


@models.command("list")
@_models_dir_option
@click.pass_context
def list_command(ctx: click.Context, models_dir: str | None) -> None:
    """Show installed model files with their sizes, and the models `pull` knows."""
    folder = models_dir_for(ctx, models_dir)
    files = installed(folder)
    click.echo(f"Installed in {folder}:")
    for path, size in files:
        click.echo(f"  {path.relative_to(folder)}  {_size(size)}")
    if not files:
        click.echo("  (none)")
    click.echo("Known models (homelab-agent models pull NAME):")
    names = {path.name for path, _ in files}
    for known in KNOWN_MODELS.values():
        mark = "installed" if known.filename in names else _size(known.size)
        click.echo(f"  {known.name:<20} {mark:<10} {known.description}")


COMMANDS: list[click.Command] = [models]
