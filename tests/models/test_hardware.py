"""Hardware detection and fitting: GGUF headers, CPU flags, nvidia-smi output, layer and context plans."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models.hardware import GIB, MIB, GgufInfo, check_memory, cpu_info, fit, gpus, read_gguf
from tests.models.conftest import write_tiny_gguf


def test_reading_a_gguf_header_gives_architecture_sizes_and_template(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "m.gguf", blocks=3, template="{{ messages }}")
    info = read_gguf(path)
    assert (info.architecture, info.block_count, info.embedding_length) == ("llama", 3, 64)
    assert (info.head_count, info.head_count_kv, info.head_dim, info.context_length) == (4, 2, 16, 2048)
    assert info.chat_template == "{{ messages }}"
    assert info.layer_bytes >= 64 * 64 * 4
    assert info.file_size == path.stat().st_size


def test_kv_cache_size_follows_layers_context_and_kv_heads(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    assert info.kv_cache_bytes(1000) == 2 * 2 * 2 * 1000 * 2 * 16


def test_a_missing_file_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no model file at"):
        read_gguf(tmp_path / "absent.gguf")


def test_a_file_that_is_not_gguf_is_a_load_error_naming_the_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "page.gguf"
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(ModelLoadError, match="not a GGUF model file"):
        read_gguf(path)


def test_a_truncated_gguf_is_a_load_error(tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:60])
    with pytest.raises(ModelLoadError, match=r"truncated|corrupt"):
        read_gguf(cut)


def test_a_gguf_without_model_metadata_is_a_load_error(tmp_path: Path) -> None:
    import gguf

    path = tmp_path / "adapter.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelLoadError, match="no usable model metadata"):
        read_gguf(path)


def test_cpu_features_come_from_proc_cpuinfo_flags() -> None:
    cpu = cpu_info("model name\t: Test CPU\nflags\t\t: fpu sse4_2 avx avx2 fma f16c\n")
    assert cpu.model == "Test CPU"
    assert cpu.features == ("avx", "avx2", "fma", "f16c")
    assert cpu.ram_total > 0 and cpu.physical_cores >= 1


def test_nvidia_smi_csv_becomes_gpus_with_free_memory() -> None:
    out = "0, NVIDIA GeForce RTX 3060, 12288, 11000\n1, Tesla P4, 7680, 7000\n"
    found = gpus(lambda args: out)
    assert [(g.index, g.name, g.memory_free) for g in found] == [
        (0, "NVIDIA GeForce RTX 3060", 11000 * MIB),
        (1, "Tesla P4", 7000 * MIB),
    ]


def test_no_nvidia_smi_means_no_gpus() -> None:
    assert gpus(lambda args: "") == []


def big_model(tmp_path: Path) -> GgufInfo:
    """A 7B-like header: 32 blocks of 120 MiB, 4.3 GiB in all, GQA with 8 KV heads of 128."""
    info = read_gguf(write_tiny_gguf(tmp_path / "big.gguf"))
    return replace(
        info,
        file_size=int(4.3 * GIB),
        block_count=32,
        embedding_length=4096,
        head_count=32,
        head_count_kv=8,
        head_dim=128,
        context_length=32768,
        layer_bytes=120 * MIB,
    )


def test_without_a_gpu_everything_stays_on_the_cpu(tmp_path: Path) -> None:
    plan = fit(big_model(tmp_path), 8192, free_vram=0, ram_available=32 * GIB)
    assert (plan.n_gpu_layers, plan.speed, plan.fits) == (0, "cpu", True)
    assert plan.max_ctx >= 8192


def test_a_large_gpu_takes_every_layer_and_the_output_layer(tmp_path: Path) -> None:
    plan = fit(big_model(tmp_path), 8192, free_vram=24 * GIB, ram_available=32 * GIB)
    assert plan.n_gpu_layers == 33 and plan.speed == "gpu"
    assert plan.needs_vram < 24 * GIB


def test_a_small_gpu_takes_some_layers_leaving_room_for_their_kv_cache(tmp_path: Path) -> None:
    info = big_model(tmp_path)
    plan = fit(info, 8192, free_vram=3 * GIB, ram_available=32 * GIB)
    assert 0 < plan.n_gpu_layers < 32 and plan.speed == "partial-gpu"
    per_layer = 120 * MIB + info.kv_cache_bytes(8192, 1)
    assert plan.offloaded_blocks * per_layer < 3 * GIB
    assert any("blocks fit in free VRAM" in a for a in plan.advice)


def test_too_little_ram_is_reported_with_advice(tmp_path: Path) -> None:
    plan = fit(big_model(tmp_path), 8192, free_vram=0, ram_available=2 * GIB)
    assert not plan.fits
    assert "GiB of RAM" in plan.advice[0] and "lower n_ctx" in plan.advice[0]


def test_check_memory_raises_with_sizes_and_advice_when_ram_is_short(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    with pytest.raises(ModelLoadError, match=r"needs about .* GiB of RAM .* only 0.00 GiB is available"):
        check_memory(info, 4096, 0, ram_available=1024)
    check_memory(info, 4096, 0, ram_available=8 * GIB)
