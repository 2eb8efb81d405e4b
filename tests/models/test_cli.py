"""`homelab-agent models pull|list` and `homelab-agent doctor`, run through click without a config."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from agent.cli import main
from tests.models.conftest import write_tiny_gguf


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
