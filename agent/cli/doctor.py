"""`doctor`: what this machine can run, whether each configured model fits it, and what fits best.

Reports CPU features, RAM, NVIDIA GPUs with free VRAM, and for each model the config answers with
(`agent.model`, or the router's models; the default model when there is no config): whether its
file is there, how many layers go to the GPU, the context that fits, the expected speed, and what
to do when it does not fit. Models the config defines but does not use are named and not judged.
Then every known model against this machine (fully on the GPU, partly, CPU only, or not at all,
with tokens/s from memory bandwidth) and the one command that switches to the best fit (see
`agent.models.recommend`). Reads GGUF headers only; loads nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import httpx

from agent.cli.models import models_dir_for
from agent.config import load_config
from agent.config_file import answering_entry
from agent.exceptions import ConfigError, ModelError
from agent.models.bandwidth import Bandwidth
from agent.models.catalog import DEFAULT_MODEL, KNOWN_MODELS
from agent.models.factory import model_path
from agent.models.hardware import GIB, CpuInfo, GpuInfo, cpu_info, fit, gpus, read_gguf
from agent.models.recommend import N_CTX, Machine, assess, choose, probe, table
from agent.models.settings import LlamaSettings, ModelSettings
from homelab_common.redact import redact_url, redact_urls

__all__ = ["COMMANDS", "report_best_fit", "report_machine", "report_model"]


def report_machine(cpu: CpuInfo, found: list[GpuInfo]) -> list[str]:
    """Lines describing the CPU, RAM and GPUs."""
    lines = [
        f"CPU: {cpu.model}, {cpu.physical_cores} cores ({cpu.logical_cores} threads), "
        f"features: {' '.join(cpu.features) or 'none detected'}",
        f"RAM: {cpu.ram_available / GIB:.1f} GiB available of {cpu.ram_total / GIB:.1f} GiB",
    ]
    if cpu.features and "avx2" not in cpu.features and "asimd" not in cpu.features:
        lines.append("  warning: no AVX2: llama.cpp will be slow; prefer the smallest models")
    if not found:
        lines.append("GPU: none found (nvidia-smi absent or no NVIDIA GPU); models run on the CPU")
    for gpu in found:
        lines.append(
            f"GPU {gpu.index}: {gpu.name}, {gpu.memory_free / GIB:.1f} GiB free "
            f"of {gpu.memory_total / GIB:.1f} GiB"
        )
    return lines


def report_model(
    name: str,
    settings: ModelSettings,
    models_dir: Path,
    free_vram: int,
    ram: int,
    bandwidths: tuple[Bandwidth | None, Bandwidth] | None = None,
) -> tuple[bool, list[str]]:
    """Whether model `name` is ready and fits, and lines saying so (speed from `bandwidths`)."""
    if settings.backend == "openai":
        lines, up = [], 0
        for url in (u.rstrip("/") for u in settings.all_urls):
            shown = redact_url(url)
            try:
                ok = httpx.get(f"{url}/models", timeout=3).status_code < 500
            except httpx.HTTPError as exc:
                lines.append(
                    f"model {name}: server {shown} unreachable ({redact_urls(repr(exc))}); "
                    f"start it or fix models.{name}.url"
                )
                continue
            up += ok
            lines.append(f"model {name}: server {shown} {'answers' if ok else 'fails'}")
        return up > 0, lines
    try:
        path = model_path(settings, name, models_dir)
        info = read_gguf(path)
    except (ConfigError, ModelError) as exc:
        source = settings.source or name
        pull = source if source in KNOWN_MODELS or source.startswith("hf:") else DEFAULT_MODEL
        return False, [f"model {name}: {exc}", f"  fix: homelab-agent models pull {pull}"]
    speeds = {}
    if bandwidths is not None:
        gpu_bw, cpu_bw = bandwidths
        speeds = {"cpu_bandwidth": cpu_bw.bytes_per_s}
        if gpu_bw is not None:
            speeds["gpu_bandwidth"] = gpu_bw.bytes_per_s
    plan = fit(info, settings.n_ctx, free_vram, ram, **speeds)
    layers = settings.n_gpu_layers
    chosen = plan.n_gpu_layers if layers == "auto" else layers
    lines = [
        f"model {name}: {path.name} ({info.file_size / GIB:.2f} GiB, {info.architecture}, "
        f"{info.block_count} blocks)",
        f"  GPU layers: {chosen}{' (auto)' if layers == 'auto' else ''} of {info.block_count + 1}; "
        f"n_ctx {settings.n_ctx}, largest that fits {plan.max_ctx}",
        f"  needs ~{plan.needs_ram / GIB:.2f} GiB RAM, {plan.needs_vram / GIB:.2f} GiB VRAM; "
        f"speed: {plan.speed}, roughly {plan.est_decode_tok_s:.0f} tokens/s to generate",
    ]
    lines += [f"  fix: {advice}" for advice in plan.advice]
    return plan.fits and settings.n_ctx <= plan.max_ctx, lines


def report_best_fit(machine: Machine, models_dir: Path, current: str | None = None) -> list[str]:
    """Every known model against `machine`, the best fit, and the command that switches to it."""
    verdicts = assess(machine, models_dir=models_dir)
    choice = choose(verdicts, machine)
    lines = [
        f"Known models on this machine at n_ctx {N_CTX} ({machine.describe()}):",
        *table(verdicts, choice),
        f"Best fit: {choice.name}: {choice.why}",
    ]
    if current == choice.name:
        lines.append(f"  the config already answers with {choice.name}")
    else:
        lines.append(f"  switch: {choice.command}")
    return lines


@click.command()
@click.option(
    "--models-dir",
    type=click.Path(file_okay=False),
    envvar="HOMELAB_AGENT_MODELS_DIR",
    default=None,
    help="Where model files live.",
)
@click.pass_context
def doctor(ctx: click.Context, models_dir: str | None) -> None:
    """Check this machine and whether each configured model fits it."""
    obj: dict[str, Any] = ctx.obj or {}
    folder = models_dir_for(ctx, models_dir)
    current: str | None = None
    try:
        config = load_config(obj.get("config_path"))
        entries, used, answering = config.models, config.used_models(), config.agent.model
        entry = entries.get(answering_entry(config))
        if isinstance(entry, LlamaSettings):
            current = entry.source
    except ConfigError:
        entries, used, answering = {}, [], DEFAULT_MODEL
    if not entries:
        entries, used = {DEFAULT_MODEL: LlamaSettings(source=DEFAULT_MODEL)}, [DEFAULT_MODEL]
    cpu, found = cpu_info(), gpus()
    for line in report_machine(cpu, found):
        click.echo(line)
    machine = probe(found=found, cpu=cpu)
    bandwidths = (machine.gpu_bandwidth if machine.offload else None, machine.cpu_bandwidth)
    free = machine.usable_gpu.memory_free if machine.usable_gpu else 0
    healthy = True
    for name, settings in entries.items():
        if name not in used:
            click.echo(f"model {name}: not used by this config (agent.model = {answering!r}); not checked")
            continue
        ok, lines = report_model(name, settings, folder, free, cpu.ram_available, bandwidths)
        healthy = healthy and ok
        for line in lines:
            click.echo(line)
    for line in report_best_fit(machine, folder, current):
        click.echo(line)
    if not healthy:
        sys.exit(1)


COMMANDS: list[click.Command] = [doctor]
