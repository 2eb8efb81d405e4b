"""Which known model suits this machine, how much of it fits, and how fast it will answer.

Every known model is fitted at n_ctx (from its GGUF header when the file is here, else from the
shape the catalog records) into the first GPU's free memory and the available RAM: fully on the
GPU, partly (some layers), CPU only, or no. Its speed is estimated from memory bandwidth (see
`bandwidth`). The pick: with an NVIDIA GPU, the highest-ranked model (see `known`) that fits on
it entirely; if none larger than the 1.5B does, the highest-ranked one that fits partly and still
generates `MIN_TOKENS_PER_S`; without a GPU, or when nothing larger fits well, the 1.5B. Reads
GGUF headers only; downloads and loads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.exceptions import ModelError
from agent.models.bandwidth import Bandwidth, cpu_bandwidth, gpu_bandwidth
from agent.models.hardware import GIB, CpuInfo, FitPlan, GgufInfo, GpuInfo, cpu_info, fit, gpus, read_gguf
from agent.models.known import CPU_DEFAULT, KNOWN_MODELS, KnownModel

__all__ = [
    "MIN_TOKENS_PER_S",
    "N_CTX",
    "Choice",
    "Machine",
    "Verdict",
    "assess",
    "choose",
    "probe",
    "table",
]

N_CTX = 8192
"""The context the recommendation plans for: the config's default `n_ctx`."""

MIN_TOKENS_PER_S = 10.0
"""A model only partly on the GPU is worth picking from here: faster than most people read."""

Fits = Literal["gpu", "partial", "cpu", "no"]
_FITS: dict[str, Fits] = {"gpu": "gpu", "partial-gpu": "partial", "cpu": "cpu"}


@dataclass(frozen=True)
class Machine:
    """What a recommendation needs to know: the GPU (the first one), RAM, and bandwidths."""

    gpu: GpuInfo | None
    gpu_bandwidth: Bandwidth | None
    ram_available: int
    cpu_bandwidth: Bandwidth
    offload: bool = True  # llama-cpp-python was built to use a GPU (CUDA): without it the GPU idles

    @property
    def usable_gpu(self) -> GpuInfo | None:
        """The GPU models can run on: none when llama.cpp cannot use it."""
        return self.gpu if self.offload else None

    def describe(self) -> str:
        """One line: the GPU with its free memory and bandwidth, or none; the CPU's bandwidth."""
        cpu = f"CPU {self.cpu_bandwidth}, {self.ram_available / GIB:.1f} GiB RAM available"
        if self.gpu is None:
            return f"no NVIDIA GPU; {cpu}"
        if not self.offload:
            return f"GPU {self.gpu.name} unused: llama-cpp-python has no GPU support; {cpu}"
        return f"GPU {self.gpu.name}, {self.gpu.memory_free / GIB:.1f} GiB free, {self.gpu_bandwidth}; {cpu}"


def probe(
    measure_cpu: bool = True, found: list[GpuInfo] | None = None, cpu: CpuInfo | None = None
) -> Machine:
    """This machine, read now (nvidia-smi, /proc, psutil; a 0.1 s memory read unless told not to).

    `found` and `cpu` are what `gpus()` and `cpu_info()` said, when the caller asked already.
    """
    found = gpus() if found is None else found
    cpu = cpu_info() if cpu is None else cpu
    gpu = found[0] if found else None
    offload = True
    if gpu is not None:
        from agent.models.llama import gpu_offload_supported

        offload = gpu_offload_supported()
    return Machine(
        gpu, gpu_bandwidth(gpu) if gpu else None, cpu.ram_available, cpu_bandwidth(measure_cpu), offload
    )


@dataclass(frozen=True)
class Verdict:
    """How one model fits the machine."""

    model: KnownModel
    fits: Fits
    plan: FitPlan
    recorded: bool  # sized from the catalog's recorded shape, not from the file's header

    @property
    def label(self) -> str:
        """`fully on GPU`, `partly (k/n layers)`, `CPU only` or `no (...)`."""
        if self.fits == "gpu":
            return "fully on GPU"
        if self.fits == "partial":  # layers as llama.cpp counts them: the blocks and the output layer
            return f"partly ({self.plan.n_gpu_layers}/{self.plan.total_blocks + 1} layers)"
        if self.fits == "cpu":
            return "CPU only"
        return f"no (needs {self.plan.needs_ram / GIB:.1f} GiB RAM)"

    @property
    def tokens_per_s(self) -> float:
        """Estimated generation speed."""
        return self.plan.est_decode_tok_s


@dataclass(frozen=True)
class Choice:
    """The model to use, and why in one sentence."""

    verdict: Verdict
    why: str

    @property
    def name(self) -> str:
        """The known model's name, as `models pull` / `models use` take it."""
        return self.verdict.model.name

    @property
    def command(self) -> str:
        """The one command that switches to it."""
        return f"homelab-agent models use {self.name}"


def _info(model: KnownModel, models_dir: Path | None) -> tuple[GgufInfo, bool]:
    """The installed file's header, else an estimate from the catalog's recorded shape."""
    path = (models_dir or Path()) / model.filename
    if models_dir is not None and path.is_file() and path.stat().st_size == model.size:
        try:
            return read_gguf(path), False
        except ModelError:
            pass
    shape = model.shape
    if shape is None:
        raise ValueError(f"{model.name} has no recorded shape")
    layer = max(1, (model.size - shape.non_block_bytes(model.quant)) // shape.block_count)
    info = GgufInfo(
        path=path,
        file_size=model.size,
        architecture=shape.architecture,
        name=model.name,
        block_count=shape.block_count,
        embedding_length=shape.embedding_length,
        head_count=shape.head_count,
        head_count_kv=shape.head_count_kv,
        head_dim=shape.head_dim,
        context_length=shape.context_length,
        chat_template=None,
        layer_bytes=layer,
    )
    return info, True


def assess(
    machine: Machine,
    models: Iterable[KnownModel] = KNOWN_MODELS.values(),
    *,
    n_ctx: int = N_CTX,
    models_dir: Path | None = None,
) -> list[Verdict]:
    """How each model with a known shape fits `machine`, best-ranked first."""
    free = machine.usable_gpu.memory_free if machine.usable_gpu else 0
    gpu_bw = machine.gpu_bandwidth.bytes_per_s if machine.gpu_bandwidth else 1.0
    verdicts = []
    for model in models:
        if model.shape is None:
            continue
        info, recorded = _info(model, models_dir)
        plan = fit(
            info,
            min(n_ctx, info.context_length),
            free,
            machine.ram_available,
            gpu_bandwidth=gpu_bw,
            cpu_bandwidth=machine.cpu_bandwidth.bytes_per_s,
        )
        fits: Fits = _FITS[plan.speed] if plan.fits else "no"
        verdicts.append(Verdict(model, fits, plan, recorded))
    return sorted(verdicts, key=lambda v: (-v.model.rank, v.model.size))


def choose(verdicts: list[Verdict], machine: Machine) -> Choice:
    """The best model for `machine` among `verdicts` (which must include the CPU default)."""
    cpu = next(v for v in verdicts if v.model.name == CPU_DEFAULT)
    gpu = machine.usable_gpu
    if gpu is not None:
        larger = [v for v in verdicts if v.model.rank > cpu.model.rank]
        whole = [v for v in larger if v.fits == "gpu"]
        partly = [v for v in larger if v.fits == "partial" and v.tokens_per_s >= MIN_TOKENS_PER_S]
        where = f"the {gpu.memory_free / GIB:.1f} GiB free on {gpu.name}"
        if whole:
            best = whole[0]
            why = (
                f"fits entirely in {where} at about {best.tokens_per_s:.0f} tokens/s: the strongest "
                "tool caller here that does"
            )
            return Choice(best, why)
        if partly:
            best = partly[0]
            why = (
                f"no larger model fits entirely in {where}; {best.plan.n_gpu_layers} of this one's "
                f"{best.plan.total_blocks + 1} layers do and the rest runs on the CPU, at about "
                f"{best.tokens_per_s:.0f} tokens/s"
            )
            return Choice(best, why)
        why = (
            f"no larger model fits {where} at {MIN_TOKENS_PER_S:.0f}+ tokens/s; the 1.5B runs "
            f"{cpu.label.lower()} at about {cpu.tokens_per_s:.0f} tokens/s"
        )
        return Choice(cpu, why)
    seven = next((v for v in verdicts if v.model.name == "qwen2.5-7b"), None)
    slower = f"; a 7B would manage about {seven.tokens_per_s:.0f}" if seven and seven.fits != "no" else ""
    why = f"no NVIDIA GPU found: the 1.5B answers on the CPU at about {cpu.tokens_per_s:.0f} tokens/s{slower}"
    if machine.gpu is not None:
        why = (
            f"{machine.gpu.name} found, but this llama-cpp-python was built without GPU support, so the "
            f"1.5B answers on the CPU at about {cpu.tokens_per_s:.0f} tokens/s; install the CUDA toolkit "
            "(nvcc), run scripts/setup.sh again (it then builds for CUDA), and ask again"
        )
    if cpu.fits == "no":
        needs, has = cpu.plan.needs_ram / GIB, machine.ram_available / GIB
        why += f", once {needs:.1f} GiB of RAM is free ({has:.1f} GiB now)"
    return Choice(cpu, why)


def table(verdicts: list[Verdict], choice: Choice | None = None) -> list[str]:
    """The verdicts as aligned rows: model, quant, size, how it fits, tokens/s."""
    rows = [f"  {'model':<20} {'quant':<7} {'size':>9}  {'fits this machine':<24} {'~tokens/s':>9}"]
    for v in verdicts:
        mark = "  <- best fit" if choice is not None and v.model.name == choice.name else ""
        speed = "-" if v.fits == "no" else f"{v.tokens_per_s:.0f}"
        rows.append(
            f"  {v.model.name:<20} {v.model.quant:<7} {v.model.size / GIB:>5.2f} GiB  {v.label:<24} "
            f"{speed:>9}{mark}"
        )
    return rows
