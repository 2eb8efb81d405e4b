"""Which model suits a machine: the fit and speed arithmetic on 6-24 GB cards and on the CPU.

Every machine here is a real card as nvidia-smi describes it (name, total and free MiB), with the
catalog's recorded sizes and shapes (nothing is downloaded) and a CPU that reads weights at
20 GB/s (what llama.cpp reached on this project's 2-core box). The expectations are the ones a
person would check by hand: a 4.7 GB model fits an 8 GB card, a 9 GB one does not; a 12 GB card
holds a 14B at 8k context only when little else uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models.bandwidth import Bandwidth, gpu_bandwidth
from agent.models.hardware import GIB, MIB, GpuInfo, read_gguf
from agent.models.known import CPU_DEFAULT, KNOWN_MODELS
from agent.models.recommend import MIN_TOKENS_PER_S, Choice, Machine, Verdict, _info, assess, choose, table

CPU = Bandwidth(20e9, "test")
HUB = [m.name for m in KNOWN_MODELS.values() if m.hub is not None]


def machine(name: str | None, total_mib: int = 0, free_mib: int = 0, ram: int = 32 * GIB) -> Machine:
    gpu = GpuInfo(0, name, total_mib * MIB, free_mib * MIB) if name else None
    return Machine(gpu, gpu_bandwidth(gpu) if gpu else None, ram, CPU)


def recommend(m: Machine) -> tuple[dict[str, Verdict], Choice]:
    verdicts = assess(m)
    return {v.model.name: v for v in verdicts}, choose(verdicts, m)


def test_a_6_gb_card_holds_no_7b_whole_at_8k_context_so_most_of_qwen3_8b_goes_on_it() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 2060", 6144, 5800))
    assert not any(by_name[n].fits == "gpu" for n in HUB)
    assert choice.name == "qwen3-8b" and choice.verdict.fits == "partial"
    assert (
        by_name["qwen3-8b"].label.startswith("partly (") and choice.verdict.tokens_per_s >= MIN_TOKENS_PER_S
    )
    assert by_name["qwen3-14b"].tokens_per_s < MIN_TOKENS_PER_S  # half its layers on the CPU: too slow
    assert by_name[CPU_DEFAULT].fits == "gpu"
    assert "rest runs on the CPU" in choice.why


def test_an_8_gb_card_takes_an_8b_whole_but_not_a_14b() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 4060", 8188, 7700))
    assert {n for n in HUB if by_name[n].fits == "gpu"} == {
        "qwen3-8b",
        "qwen2.5-7b-q5",
        "qwen2.5-7b",
        "llama-3.1-8b",
    }
    assert by_name["qwen3-14b"].fits == by_name["mistral-nemo-12b"].fits == "partial"
    assert choice.name == "qwen3-8b" and choice.command == "homelab-agent models use qwen3-8b"
    assert 30 <= choice.verdict.tokens_per_s <= 45  # 272 GB/s x 0.7 / 5.03 GB


def test_a_12_gb_card_with_little_else_on_it_holds_a_14b_whole() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 3060", 12288, 11800))
    assert all(by_name[n].fits == "gpu" for n in HUB)
    assert choice.name == "qwen3-14b"
    assert 20 <= choice.verdict.tokens_per_s <= 35  # 360 GB/s x 0.7 / 9 GB
    assert 40 <= by_name["qwen2.5-7b"].tokens_per_s <= 60  # the "~50 tokens/s" for a 7-8B
    assert "fits entirely in the 11.5 GiB free on NVIDIA GeForce RTX 3060" in choice.why


def test_a_12_gb_card_that_also_drives_a_desktop_gets_the_8b_whole_rather_than_a_14b_in_part() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 3060", 12288, 10900))
    assert by_name["qwen3-14b"].fits == "partial"  # its blocks fit, not its output layer and buffers
    assert choice.name == "qwen3-8b" and choice.verdict.fits == "gpu"


def test_a_16_gb_card_holds_every_catalog_model_whole() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 4060 Ti", 16380, 15900))
    assert all(v.fits == "gpu" for v in by_name.values())
    assert choice.name == "qwen3-14b"
    assert 15 <= choice.verdict.tokens_per_s <= 25  # a narrow 288 GB/s bus: slower than the 3060


def test_a_24_gb_card_picks_the_same_14b_and_runs_it_several_times_faster() -> None:
    by_name, choice = recommend(machine("NVIDIA GeForce RTX 3090", 24576, 24000))
    _, on_3060 = recommend(machine("NVIDIA GeForce RTX 3060", 12288, 11800))
    assert choice.name == "qwen3-14b" and all(v.fits == "gpu" for v in by_name.values())
    assert choice.verdict.tokens_per_s > 2.4 * on_3060.verdict.tokens_per_s  # 936 vs 360 GB/s


def test_a_cpu_only_machine_gets_the_1_5b_and_hears_what_a_7b_would_cost() -> None:
    by_name, choice = recommend(machine(None, ram=16 * GIB))
    assert all(v.fits == "cpu" for v in by_name.values())
    assert choice.name == CPU_DEFAULT == "qwen2.5-coder-1.5b"
    assert 15 <= choice.verdict.tokens_per_s <= 20  # 20 GB/s / 1.1 GB; the benchmark measured 18.1
    assert by_name["qwen2.5-7b"].tokens_per_s < 5
    assert choice.why.startswith("no NVIDIA GPU found: the 1.5B answers on the CPU at about 18 tokens/s")


def test_a_cpu_only_machine_short_of_ram_is_told_which_models_do_not_fit() -> None:
    by_name, choice = recommend(machine(None, ram=4 * GIB))
    assert by_name["qwen2.5-7b"].fits == "no" and by_name["qwen2.5-7b"].label.startswith("no (needs ")
    assert by_name[CPU_DEFAULT].fits == "cpu" and choice.name == CPU_DEFAULT


def test_a_card_too_small_for_any_larger_model_keeps_the_1_5b_and_says_why() -> None:
    _, choice = recommend(machine("NVIDIA GeForce GTX 1650", 4096, 3800))
    assert choice.name == CPU_DEFAULT and choice.verdict.fits == "gpu"
    assert choice.why.startswith("no larger model fits the 3.7 GiB free on NVIDIA GeForce GTX 1650")


def test_the_table_marks_the_pick_and_shows_a_row_per_model() -> None:
    m = machine("NVIDIA GeForce RTX 3060", 12288, 11800)
    verdicts = assess(m)
    rows = table(verdicts, choose(verdicts, m))
    assert rows[0].split() == ["model", "quant", "size", "fits", "this", "machine", "~tokens/s"]
    assert len(rows) == 1 + len(KNOWN_MODELS)
    best = [r for r in rows if "<- best fit" in r]
    assert len(best) == 1 and best[0].split()[:5] == ["qwen3-14b", "Q4_K_M", "8.38", "GiB", "fully"]


@pytest.mark.real_model
def test_the_recorded_shape_of_an_installed_model_agrees_with_its_gguf_header(qwen_path: Path) -> None:
    model = KNOWN_MODELS["qwen2.5-coder-0.5b"]
    header, recorded = _info(model, qwen_path.parent)
    assert not recorded  # the installed file's own header is used
    estimate, recorded = _info(model, None)
    assert recorded
    real = read_gguf(qwen_path)
    for field in ("architecture", "block_count", "embedding_length", "head_count_kv", "head_dim"):
        assert getattr(estimate, field) == getattr(real, field) == getattr(header, field), field
    assert estimate.kv_cache_bytes(8192) == real.kv_cache_bytes(8192)
    assert abs(estimate.layer_bytes - real.layer_bytes) / real.layer_bytes < 0.25


def test_a_gpu_that_llama_cpp_was_not_built_for_is_not_counted_and_the_fix_is_named() -> None:
    card = machine("NVIDIA GeForce RTX 3060", 12288, 11800)
    cpu_build = Machine(card.gpu, card.gpu_bandwidth, card.ram_available, CPU, offload=False)
    by_name, choice = recommend(cpu_build)
    assert all(v.fits == "cpu" for v in by_name.values())
    assert choice.name == CPU_DEFAULT
    assert "built without GPU support" in choice.why and "run scripts/setup.sh again" in choice.why
    assert "unused: llama-cpp-python has no GPU support" in cpu_build.describe()
