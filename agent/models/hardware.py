"""What this machine can run: CPU features, RAM, NVIDIA GPUs, and how a GGUF model fits them.

`read_gguf` reads a GGUF file's header (metadata and tensor table) with the `gguf` package's type
codes, without touching the weights, in well under a second (`gguf.GGUFReader` parses the whole
vocabulary with numpy and takes seconds). `fit` turns that plus free VRAM and RAM into a plan:
layers to offload, the context that fits, a speed class, and advice when it does not fit.

Estimates, not measurements: `doctor` shows them and `llama.loading` acts on them. This module does not
load models (see `agent.models.llama`) or download them (see `catalog`).
"""

from __future__ import annotations

import mmap
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psutil
from gguf import GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUFValueType

from agent.exceptions import ModelLoadError, ModelNotFoundError

__all__ = [
    "CpuInfo",
    "FitPlan",
    "GgufInfo",
    "GpuInfo",
    "check_memory",
    "cpu_info",
    "fit",
    "gpus",
    "read_gguf",
]

GIB = 1024**3
MIB = 1024**2
_MAX_ARRAY_DEPTH = 16  # real files nest arrays once at most; deeper is corruption (or an attack)
_SCALARS: dict[int, str] = {
    GGUFValueType.UINT8: "<B", GGUFValueType.INT8: "<b", GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h", GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f", GGUFValueType.BOOL: "<?", GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q", GGUFValueType.FLOAT64: "<d",
}  # fmt: skip


@dataclass(frozen=True)
class GgufInfo:
    """What a GGUF header says about a model."""

    path: Path
    file_size: int
    architecture: str
    name: str
    block_count: int
    embedding_length: int
    head_count: int
    head_count_kv: int
    head_dim: int
    context_length: int
    chat_template: str | None
    layer_bytes: int  # weights of the largest repeating block
    metadata: dict[str, Any] = field(repr=False, default_factory=dict)  # scalars and strings only

    def kv_cache_bytes(self, n_ctx: int, layers: int | None = None) -> int:
        """The f16 K and V cache for `n_ctx` tokens over `layers` blocks (default all)."""
        layers = self.block_count if layers is None else layers
        return 2 * 2 * layers * n_ctx * self.head_count_kv * self.head_dim


class _Cursor:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ModelLoadError(f"{self.path} is truncated: its GGUF header ends early; download it again")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self, keep: bool = True) -> str:
        length = self.unpack("<Q")
        if self.pos + length > len(self.buf):
            raise ModelLoadError(f"{self.path} is truncated or corrupt (a string runs past the end)")
        raw = self.buf[self.pos : self.pos + length] if keep else b""
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int, depth: int = 0) -> Any:
        if kind == GGUFValueType.STRING:
            return self.string()
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == GGUFValueType.ARRAY:
            if depth >= _MAX_ARRAY_DEPTH:
                raise ModelLoadError(
                    f"{self.path} is corrupt or hostile: its metadata has arrays nested more than "
                    f"{_MAX_ARRAY_DEPTH} deep; download the model again from a source you trust"
                )
            inner, count = self.unpack("<I"), self.unpack("<Q")
            if inner in _SCALARS:
                self.pos += count * struct.calcsize(_SCALARS[inner])
                if self.pos > len(self.buf):
                    raise ModelLoadError(f"{self.path} is truncated or corrupt (an array runs past the end)")
            elif inner == GGUFValueType.STRING:
                for _ in range(count):
                    self.string(keep=False)
            else:
                for _ in range(count):
                    self.value(inner, depth + 1)
            return None  # arrays (vocabulary, merges) are not needed here
        raise ModelLoadError(f"{self.path} is corrupt: unknown GGUF value type {kind}")


def read_gguf(path: Path) -> GgufInfo:
    """Read a GGUF header without loading weights.

    Raises:
        ModelNotFoundError: no file at `path`.
        ModelLoadError: the file is not GGUF, or its header is truncated or corrupt.
    """
    if not path.is_file():
        raise ModelNotFoundError(f"no model file at {path}")
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(4) != struct.pack("<I", GGUF_MAGIC):
            raise ModelLoadError(
                f"{path} is not a GGUF model file (wrong magic bytes); point models.NAME.source at a "
                ".gguf file or run `homelab-agent models pull NAME` again"
            )
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            cur = _Cursor(buf, path)
            cur.pos = 4
            version = cur.unpack("<I")
            if version < 2:
                raise ModelLoadError(f"{path} is GGUF version {version}; convert it with a current llama.cpp")
            n_tensors, n_kv = cur.unpack("<Q"), cur.unpack("<Q")
            meta: dict[str, Any] = {}
            for _ in range(n_kv):
                key = cur.string()
                value = cur.value(cur.unpack("<I"))
                if value is not None:
                    meta[key] = value
            tensors: list[tuple[str, int]] = []
            for _ in range(n_tensors):
                name = cur.string()
                n_dims = cur.unpack("<I")
                cur.pos += 8 * n_dims
                cur.unpack("<I")  # type
                tensors.append((name, cur.unpack("<Q")))
            align = int(meta.get("general.alignment", GGUF_DEFAULT_ALIGNMENT))
            data_start = -(-cur.pos // align) * align
    return _info(path, size, meta, tensors, data_start)


def _info(
    path: Path, size: int, meta: dict[str, Any], tensors: list[tuple[str, int]], start: int
) -> GgufInfo:
    arch = str(meta.get("general.architecture", ""))

    def num(key: str, default: int = 0) -> int:
        value = meta.get(f"{arch}.{key}", default)
        return int(value) if isinstance(value, int | float) else default

    blocks, embed = num("block_count"), num("embedding_length")
    if not arch or blocks <= 0 or embed <= 0:
        raise ModelLoadError(
            f"{path} has no usable model metadata (architecture, block_count); is it a LoRA?"
        )
    heads = num("attention.head_count", 1) or 1
    per_block: dict[str, int] = {}
    ordered = sorted(tensors, key=lambda t: t[1])
    for i, (name, offset) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else size - start
        match = re.match(r"blk\.(\d+)\.", name)
        if match:
            per_block[match.group(1)] = per_block.get(match.group(1), 0) + end - offset
    layer = max(per_block.values(), default=size // blocks)
    return GgufInfo(
        path=path,
        file_size=size,
        architecture=arch,
        name=str(meta.get("general.name", path.stem)),
        block_count=blocks,
        embedding_length=embed,
        head_count=heads,
        head_count_kv=num("attention.head_count_kv", heads) or heads,
        head_dim=num("attention.key_length", embed // heads) or embed // heads,
        context_length=num("context_length", 2048),
        chat_template=meta.get("tokenizer.chat_template"),
        layer_bytes=layer,
        metadata=meta,
    )


@dataclass(frozen=True)
class CpuInfo:
    """The CPU as llama.cpp cares about it."""

    model: str
    physical_cores: int
    logical_cores: int
    features: tuple[str, ...]  # of avx, avx2, avx512f, fma, f16c, neon…
    ram_total: int
    ram_available: int


def cpu_info(cpuinfo: str | None = None) -> CpuInfo:
    """CPU model, cores, SIMD features (from /proc/cpuinfo) and RAM (psutil)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.exists() else ""
    flags: set[str] = set()
    model = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
        elif key.strip() in ("model name", "Model") and not model:
            model = value.strip()
    wanted = ("avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "fma", "f16c", "asimd", "sve")
    memory = psutil.virtual_memory()
    return CpuInfo(
        model=model or "unknown",
        physical_cores=psutil.cpu_count(logical=False) or 1,
        logical_cores=psutil.cpu_count() or 1,
        features=tuple(f for f in wanted if f in flags),
        ram_total=memory.total,
        ram_available=memory.available,
    )


@dataclass(frozen=True)
class GpuInfo:
    """One NVIDIA GPU."""

    index: int
    name: str
    memory_total: int
    memory_free: int


def _nvidia_smi(args: list[str]) -> str:
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def gpus(run: Callable[[list[str]], str] = _nvidia_smi) -> list[GpuInfo]:
    """The NVIDIA GPUs `nvidia-smi` reports, with free memory; [] when there are none."""
    out = run(
        ["nvidia-smi", "--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"]
    )
    found = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4 and parts[0].isdigit():
            try:
                found.append(
                    GpuInfo(int(parts[0]), parts[1], int(float(parts[2])) * MIB, int(float(parts[3])) * MIB)
                )
            except ValueError:
                continue
    return found


Speed = Literal["gpu", "partial-gpu", "cpu"]


@dataclass(frozen=True)
class FitPlan:
    """How a model fits this machine."""

    n_gpu_layers: int  # what to pass to llama.cpp (block_count + 1 = everything, output included)
    offloaded_blocks: int
    total_blocks: int
    n_ctx: int  # the context asked for
    max_ctx: int  # the largest context that fits where the KV cache lives
    needs_ram: int  # bytes of RAM this plan uses
    needs_vram: int
    speed: Speed
    est_decode_tok_s: float
    fits: bool
    advice: list[str]


def _compute_bytes(info: GgufInfo, n_ctx: int) -> int:
    """llama.cpp's scratch buffers: a floor plus a share that grows with context and width."""
    return 256 * MIB + n_ctx * info.embedding_length * 16


def fit(
    info: GgufInfo,
    n_ctx: int,
    free_vram: int = 0,
    ram_available: int | None = None,
    *,
    gpu_bandwidth: float = 300e9,
    cpu_bandwidth: float = 20e9,
) -> FitPlan:
    """Plan layers on the GPU and the context for `info`, leaving room for KV cache and buffers.

    The speed estimate reads each weight once per token: the GPU's share at `gpu_bandwidth`,
    the rest at `cpu_bandwidth` (effective bytes/s, see `bandwidth`).
    """
    ram = psutil.virtual_memory().available if ram_available is None else ram_available
    per_block = info.layer_bytes + info.kv_cache_bytes(n_ctx, 1)
    other = max(info.file_size - info.layer_bytes * info.block_count, 0)
    usable = free_vram - 512 * MIB - _compute_bytes(info, n_ctx)
    blocks = max(0, min(info.block_count, usable // per_block)) if free_vram > 0 else 0
    everything = blocks == info.block_count and usable - blocks * per_block >= other
    n_gpu_layers = info.block_count + 1 if everything else int(blocks)
    compute = _compute_bytes(info, n_ctx)
    gpu_weights = blocks * info.layer_bytes + (other if everything else 0)
    vram = int(gpu_weights + info.kv_cache_bytes(n_ctx, blocks) + (compute if blocks else 0))
    ram_needed = info.file_size - gpu_weights + info.kv_cache_bytes(n_ctx, info.block_count - blocks)
    ram_needed += 64 * MIB if blocks else compute
    spare = usable - blocks * per_block - other if everything else int(ram * 0.9) - ram_needed
    max_ctx = n_ctx + spare // max(1, info.kv_cache_bytes(1))
    max_ctx = max(0, min(int(max_ctx), info.context_length))
    speed: Speed = "gpu" if everything else "partial-gpu" if blocks else "cpu"
    seconds = gpu_weights / gpu_bandwidth + (info.file_size - gpu_weights) / cpu_bandwidth
    fits = ram_needed <= ram * 0.9
    advice = []
    if not fits:
        advice.append(
            f"needs about {ram_needed / GIB:.1f} GiB of RAM but {ram / GIB:.1f} GiB is available: "
            "choose a smaller model or quantisation, lower n_ctx, or free memory"
        )
    if n_ctx > info.context_length:
        advice.append(f"n_ctx {n_ctx} is above the model's trained context {info.context_length}; lower it")
    if free_vram > 0 and not everything:
        advice.append(
            f"only {blocks} of {info.block_count} blocks fit in free VRAM; lower n_ctx or free GPU memory"
        )
    return FitPlan(
        n_gpu_layers=n_gpu_layers,
        offloaded_blocks=int(blocks),
        total_blocks=info.block_count,
        n_ctx=n_ctx,
        max_ctx=max_ctx,
        needs_ram=int(ram_needed),
        needs_vram=vram,
        speed=speed,
        est_decode_tok_s=round(1 / max(seconds, 1e-9), 1),
        fits=fits,
        advice=advice,
    )


def check_memory(info: GgufInfo, n_ctx: int, n_gpu_layers: int, ram_available: int) -> None:
    """Raise ModelLoadError when the CPU part of the model and its KV cache exceed available RAM."""
    on_gpu = min(n_gpu_layers, info.block_count)
    weights = info.file_size - on_gpu * info.layer_bytes
    kv = info.kv_cache_bytes(n_ctx, info.block_count - on_gpu)
    needed = weights + kv + _compute_bytes(info, n_ctx)
    if needed > ram_available:
        raise ModelLoadError(
            f"{info.path.name} needs about {needed / GIB:.2f} GiB of RAM (weights {weights / GIB:.2f} GiB"
            f" + KV cache for n_ctx={n_ctx} {kv / GIB:.2f} GiB + buffers) but only "
            f"{ram_available / GIB:.2f} GiB is available; use a smaller model or quantisation, lower "
            "n_ctx, offload layers to a GPU, or close other programs"
        )
