"""Memory bandwidth: the card table read by the names nvidia-smi prints, and the CPU measurement."""

from __future__ import annotations

import pytest

from agent.models.bandwidth import CPU_FALLBACK, EFFICIENCY, GPU_FALLBACK, cpu_bandwidth, gpu_bandwidth
from agent.models.hardware import MIB, GpuInfo


@pytest.mark.parametrize(
    ("name", "total_mib", "peak_gbs"),
    [
        ("NVIDIA GeForce RTX 3060", 12288, 360),
        ("NVIDIA GeForce RTX 3060", 8192, 240),  # same name, narrower bus
        ("NVIDIA GeForce RTX 3060 Ti", 8192, 448),
        ("NVIDIA GeForce RTX 3060 Laptop GPU", 6144, 336),
        ("NVIDIA GeForce RTX 4060 Ti", 16380, 288),
        ("NVIDIA GeForce RTX 4070 Ti SUPER", 16376, 672),
        ("NVIDIA GeForce RTX 3090", 24576, 936),
        ("NVIDIA GeForce GTX 1080 Ti", 11264, 484),
        ("Tesla T4", 15360, 320),
        ("Tesla P4", 7680, 192),
        ("NVIDIA RTX A4000", 16376, 448),
        ("NVIDIA A100-SXM4-80GB", 81920, 2039),
        ("NVIDIA H100 PCIe", 81559, 2000),
        ("NVIDIA H200", 143771, 4800),
    ],
)
def test_a_card_nvidia_smi_names_gets_its_published_bandwidth(
    name: str, total_mib: int, peak_gbs: int
) -> None:
    found = gpu_bandwidth(GpuInfo(0, name, total_mib * MIB, total_mib * MIB))
    assert found.bytes_per_s == pytest.approx(peak_gbs * 1e9 * EFFICIENCY)
    assert f"{peak_gbs} GB/s peak" in found.source


def test_an_unknown_card_gets_a_low_assumed_figure_and_says_so() -> None:
    found = gpu_bandwidth(GpuInfo(0, "NVIDIA Future GPU 9000", 16384 * MIB, 16000 * MIB))
    assert found.bytes_per_s == GPU_FALLBACK * EFFICIENCY
    assert "NVIDIA Future GPU 9000 is not in the card table: assumed 200 GB/s" in found.source


def test_the_cpu_figure_is_measured_or_conservatively_assumed() -> None:
    measured = cpu_bandwidth()
    assert measured.bytes_per_s > 1e9 and "measured" in measured.source
    assumed = cpu_bandwidth(measure=False)
    assert assumed.bytes_per_s == CPU_FALLBACK * EFFICIENCY and "assumed" in str(assumed)
