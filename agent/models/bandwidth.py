"""How fast this machine can read model weights: the number token generation speed follows.

Generating one token reads every weight once, so decode speed is about memory bandwidth divided
by the bytes of weights. For NVIDIA cards the bandwidth comes from a table of common cards'
published specifications, keyed by the name nvidia-smi reports (and, where one name covers two
memory sizes, by memory); an unknown card gets a deliberately low figure and says so. For the
CPU it is measured: the best of a few single-threaded reads of a 64 MiB array. llama.cpp reaches
about 70% of either figure (on this project's 2-core test box the 1.5B decodes at 18 tok/s from
1.1 GB of weights: 20 GB/s of a measured 29), so both are scaled by that.

Estimates for choosing a model, not benchmarks (those are in `benchmarks/`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from agent.models.hardware import GIB, GpuInfo

__all__ = ["CPU_FALLBACK", "EFFICIENCY", "GPU_FALLBACK", "Bandwidth", "cpu_bandwidth", "gpu_bandwidth"]

EFFICIENCY = 0.7
"""The share of peak memory bandwidth llama.cpp's decoding reaches."""

GPU_FALLBACK = 200e9
"""Peak bytes/s assumed for a card not in the table: the low end of current 8-12 GB cards."""

CPU_FALLBACK = 15e9
"""Bytes/s assumed when the CPU cannot be measured: one channel of DDR4."""

# Peak memory bandwidth in GB/s from NVIDIA's specifications, by the name after "NVIDIA GeForce"
# / "NVIDIA" / "Tesla" / "Quadro", lower case. (name, GB/s, memory in GiB when the name covers
# cards with different memory buses; the first matching row wins, so longer names come first.)
_GPU_TABLE: tuple[tuple[str, float, int | None], ...] = (
    # GeForce 50
    ("rtx 5090", 1792, None), ("rtx 5080", 960, None), ("rtx 5070 ti", 896, None),
    ("rtx 5070", 672, None), ("rtx 5060 ti", 448, None), ("rtx 5060", 448, None),
    # GeForce 40 (laptop parts first: same names, narrower buses)
    ("rtx 4090 laptop", 576, None), ("rtx 4080 laptop", 432, None), ("rtx 4070 laptop", 256, None),
    ("rtx 4060 laptop", 256, None), ("rtx 4050 laptop", 192, None),
    ("rtx 4090", 1008, None), ("rtx 4080 super", 736, None), ("rtx 4080", 717, None),
    ("rtx 4070 ti super", 672, None), ("rtx 4070 ti", 504, None), ("rtx 4070 super", 504, None),
    ("rtx 4070", 504, None), ("rtx 4060 ti", 288, None), ("rtx 4060", 272, None),
    # GeForce 30
    ("rtx 3080 laptop", 448, None), ("rtx 3070 laptop", 448, None), ("rtx 3060 laptop", 336, None),
    ("rtx 3050 laptop", 192, None),
    ("rtx 3090 ti", 1008, None), ("rtx 3090", 936, None), ("rtx 3080 ti", 912, None),
    ("rtx 3080", 912, 12), ("rtx 3080", 760, 10), ("rtx 3070 ti", 608, None), ("rtx 3070", 448, None),
    ("rtx 3060 ti", 448, None), ("rtx 3060", 360, 12), ("rtx 3060", 240, 8), ("rtx 3050", 224, None),
    # GeForce 20 and 16
    ("rtx 2080 ti", 616, None), ("rtx 2080 super", 496, None), ("rtx 2080", 448, None),
    ("rtx 2070 super", 448, None), ("rtx 2070", 448, None), ("rtx 2060 super", 448, None),
    ("rtx 2060", 336, None), ("gtx 1660 super", 336, None), ("gtx 1660 ti", 288, None),
    ("gtx 1660", 192, None), ("gtx 1650", 128, None),
    # GeForce 10
    ("gtx 1080 ti", 484, None), ("gtx 1080", 320, None), ("gtx 1070 ti", 256, None),
    ("gtx 1070", 256, None), ("gtx 1060", 192, None),
    # workstation
    ("rtx 6000 ada", 960, None), ("rtx 5000 ada", 576, None), ("rtx 4500 ada", 432, None),
    ("rtx 4000 ada", 360, None), ("rtx a6000", 768, None), ("rtx a5000", 768, None),
    ("rtx a4500", 640, None), ("rtx a4000", 448, None), ("rtx a2000", 288, None),
    # data centre
    ("h200", 4800, None), ("h100 pcie", 2000, None), ("h100", 3350, None), ("a100", 2039, 80),
    ("a100", 1555, 40), ("l40s", 864, None), ("l40", 864, None), ("l4", 300, None),
    ("a40", 696, None), ("a30", 933, None), ("a10g", 600, None), ("a10", 600, None),
    ("a2", 200, None), ("v100", 900, None), ("t4", 320, None), ("p100", 732, None),
    ("p40", 347, None), ("p4", 192, None),
)  # fmt: skip


@dataclass(frozen=True)
class Bandwidth:
    """Effective bytes per second for reading weights, and where the figure came from."""

    bytes_per_s: float
    source: str

    def __str__(self) -> str:
        return f"{self.bytes_per_s / 1e9:.0f} GB/s ({self.source})"


def _card(name: str) -> str:
    name = name.lower().replace("geforce", " ").replace("nvidia", " ")
    name = re.sub(r"\b(tesla|quadro)\b", " ", name)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


def gpu_bandwidth(gpu: GpuInfo) -> Bandwidth:
    """The card's effective bandwidth, from the table of common cards or a low default."""
    card = _card(gpu.name)
    memory = round(gpu.memory_total / GIB)
    for key, gbs, mem in _GPU_TABLE:
        if re.search(rf"(^| ){re.escape(key)}( |$)", card) and (mem is None or abs(memory - mem) <= 1):
            return Bandwidth(
                gbs * 1e9 * EFFICIENCY, f"{gbs:.0f} GB/s peak of the {key.upper()}, x{EFFICIENCY}"
            )
    return Bandwidth(
        GPU_FALLBACK * EFFICIENCY,
        f"{gpu.name} is not in the card table: assumed {GPU_FALLBACK / 1e9:.0f} GB/s peak, x{EFFICIENCY}",
    )


def cpu_bandwidth(measure: bool = True) -> Bandwidth:
    """The CPU's effective bandwidth: measured in about 0.1 s, or a conservative figure."""
    if not measure:
        return Bandwidth(CPU_FALLBACK * EFFICIENCY, f"assumed {CPU_FALLBACK / 1e9:.0f} GB/s, x{EFFICIENCY}")
    data = np.ones(64 * 1024**2 // 8)
    best = 0.0
    for _ in range(5):
        started = time.perf_counter()
        data.sum()
        elapsed = time.perf_counter() - started
        best = max(best, data.nbytes / max(elapsed, 1e-9))
    return Bandwidth(best * EFFICIENCY, f"{best / 1e9:.0f} GB/s measured, x{EFFICIENCY}")
