"""`homelab-agent models pull|list` and `homelab-agent doctor`, run through click without a config."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.cli.doctor import report_best_fit
from agent.config import load_config
from agent.models.bandwidth import Bandwidth, gpu_bandwidth
from agent.models.catalog import KNOWN_MODELS, KnownModel
from agent.models.hardware import GIB, gpus
from agent.models.known import HubFile
from agent.models.recommend import Machine
from tests.models.conftest import write_tiny_gguf
from tests.support.fake_hub import FakeHub
from tests.support.http_servers import serve_app


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_models_list_shows_installed_files_with_sizes_and_known_models(tmp_path: Path) -> None:
    (tmp_path / "mine.gguf").write_bytes(b"x" * 2048)
    code, out = run("models", "list", "--models-dir", str(tmp_path))
    assert code == 0
    assert "mine.gguf" in out and "0 MiB" in out
    assert "qwen2.5-coder-0.5b" in out and "gemma-3-270m" in out


def test_models_list_reads_the_models_dir_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "env.gguf").write_bytes(b"x")
    code, out = run("models", "list", env={"HOMELAB_AGENT_MODELS_DIR": str(tmp_path)})
    assert code == 0 and "env.gguf" in out and str(tmp_path) in out


def test_models_pull_of_a_local_path_reports_it(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "tiny.gguf")
    code, out = run("models", "pull", str(path), "--models-dir", str(tmp_path))
    assert code == 0 and str(path) in out


def test_models_pull_of_an_unknown_name_fails_with_the_known_names(tmp_path: Path) -> None:
    code, out = run("models", "pull", "no-such-model", "--models-dir", str(tmp_path))
    assert code == 1
    assert "error: no model file at no-such-model" in out and "qwen2.5-coder-0.5b" in out


def test_doctor_without_a_model_says_which_pull_to_run(tmp_path: Path) -> None:
    code, out = run("doctor", "--models-dir", str(tmp_path))
    assert code == 1
    assert out.startswith("CPU: ") and "RAM: " in out and "GPU" in out
    assert "fix: homelab-agent models pull qwen2.5-coder-0.5b" in out


def test_doctor_reports_layers_context_and_speed_for_each_configured_model(tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    config = tmp_path / "homelab-agent.toml"
    config.write_text(f'[models.default]\nsource = "{model}"\nn_ctx = 1024\n')
    code, out = run("--config", str(config), "doctor", "--models-dir", str(tmp_path))
    assert code == 0, out
    assert "model default: tiny.gguf" in out
    assert "GPU layers: 0 (auto)" in out and "largest that fits" in out and "speed: cpu" in out


def test_models_list_says_where_each_known_model_comes_from_and_how_it_fits(tmp_path: Path) -> None:
    code, out = run("models", "list", "--models-dir", str(tmp_path))
    assert code == 0
    row = next(line for line in out.splitlines() if line.strip().startswith("qwen3-14b "))
    assert "8.38 GiB" in row and " hub " in row
    assert any(fit in row for fit in ("fully on GPU", "partly (", "CPU only", "no (needs"))
    assert "PyPI" in next(line for line in out.splitlines() if line.strip().startswith("qwen2.5-coder-1.5b "))


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA GPU")
def test_models_recommend_on_a_machine_without_a_gpu_prints_the_1_5b_and_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["models", "recommend", "--models-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout == "qwen2.5-coder-1.5b\n"
    assert "best fit for this machine: qwen2.5-coder-1.5b: no NVIDIA GPU found" in result.stderr


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA GPU")
def test_doctor_ends_with_every_known_model_and_the_command_for_the_best_fit(tmp_path: Path) -> None:
    code, out = run("doctor", "--models-dir", str(tmp_path))
    assert code == 1  # the default model is not in tmp_path; the recommendation comes all the same
    assert "Known models on this machine at n_ctx 8192 (no NVIDIA GPU; CPU " in out
    assert all(name in out for name in ("qwen3-14b", "llama-3.1-8b", "mistral-nemo-12b", "gemma-3-12b"))
    assert "Best fit: qwen2.5-coder-1.5b: no NVIDIA GPU found" in out
    assert out.rstrip().endswith("switch: homelab-agent models use qwen2.5-coder-1.5b")


def test_doctor_on_a_12_gb_card_recommends_a_14b_and_the_command_that_switches_to_it(tmp_path: Path) -> None:
    card = gpus(lambda args: "0, NVIDIA GeForce RTX 3060, 12288, 11800\n")[0]
    machine = Machine(card, gpu_bandwidth(card), 32 * GIB, Bandwidth(20e9, "test"))
    lines = report_best_fit(machine, tmp_path, current="qwen2.5-coder-1.5b")
    assert lines[0].startswith(
        "Known models on this machine at n_ctx 8192 (GPU NVIDIA GeForce RTX 3060, 11.5 GiB"
    )
    assert "252 GB/s (360 GB/s peak of the RTX 3060, x0.7)" in lines[0]
    assert lines[-2].startswith(
        "Best fit: qwen3-14b: fits entirely in the 11.5 GiB free on NVIDIA GeForce RTX 3060"
    )
    assert lines[-1] == "  switch: homelab-agent models use qwen3-14b"
    assert (
        report_best_fit(machine, tmp_path, current="qwen3-14b")[-1]
        == "  the config already answers with qwen3-14b"
    )


def test_models_pull_without_a_name_fetches_what_the_config_answers_with(tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    config = tmp_path / "homelab-agent.toml"
    config.write_text(f'[models.default]\nsource = "{model}"\n')
    code, out = run("--config", str(config), "models", "pull", "--models-dir", str(tmp_path))
    assert code == 0 and f"{model}: {model}" in out


def test_models_use_downloads_the_model_and_makes_the_config_answer_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_tiny_gguf(tmp_path / "src.gguf", blocks=4, width=128).read_bytes()
    hub = FakeHub()
    hub.add("someone/Tiny-GGUF", "Tiny-Q4_K_M.gguf", data, "a" * 40)
    monkeypatch.setitem(
        KNOWN_MODELS,
        "tiny-hub",
        KnownModel(
            "tiny-hub",
            "tiny-hub.gguf",
            len(data),
            hashlib.sha256(data).hexdigest(),
            (),
            "test",
            hub=HubFile("someone/Tiny-GGUF", "Tiny-Q4_K_M.gguf", "a" * 40),
        ),
    )
    config = tmp_path / "homelab-agent.toml"
    shutil.copy(Path(__file__).parents[2] / "config" / "homelab-agent.example.toml", config)
    models = tmp_path / "models"
    with serve_app(hub.app()) as url:
        code, out = run(
            "--config", str(config), "models", "use", "tiny-hub", "--models-dir", str(models),
            env={"HF_ENDPOINT": url},
        )  # fmt: skip
    assert code == 0, out
    assert (models / "tiny-hub.gguf").read_bytes() == data
    assert f"{config}: models.large.source = \"tiny-hub\" (was 'qwen2.5-coder-1.5b')" in out
    assert load_config(config, env={}).models["large"].source == "tiny-hub"


def test_models_use_without_a_config_file_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out = run("models", "use", "qwen3-8b")
    assert code == 2 and "no config file to change" in out and "homelab-agent.example.toml" in out
