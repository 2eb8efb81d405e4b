"""`config check`, `doctor` and a reused Claude Desktop file: what a new user sees first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from agent.cli import main
from agent.config import ServerSettings, load_config
from tests.conftest import ROOT
from tests.support.fake_openai import serve_fake_openai


def check(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_config_check_fails_when_a_used_model_file_is_missing(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'models_dir = "{tmp_path}"\n[models.default]\nsource = "qwen2.5-coder-1.5b"\n')
    code, output = check(config, "config", "check")
    assert code == 1
    assert "missing: no model file at" in output
    assert "homelab-agent models pull qwen2.5-coder-1.5b" in output
    assert "config OK" not in output


def test_config_check_passes_when_the_used_model_file_is_there(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    config = tmp_path / "c.toml"
    config.write_text(f'[models.default]\nsource = "{tmp_path / "m.gguf"}"\n')
    code, output = check(config, "config", "check")
    assert code == 0 and "config OK" in output and f"file: {tmp_path / 'm.gguf'}" in output


def test_config_check_shows_an_openai_model_without_llama_cpp_settings(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[models.remote]\nbackend = "openai"\nurl = "http://127.0.0.1:11434/v1"\n'
        'remote_model = "qwen2.5:7b"\n[agent]\nmodel = "remote"\n'
    )
    code, output = check(config, "config", "check")
    assert code == 0
    line = next(line for line in output.splitlines() if line.startswith("model remote"))
    assert "http://127.0.0.1:11434/v1" in line and "qwen2.5:7b" in line
    assert "n_ctx" not in line and "gpu layers" not in line


def test_doctor_judges_only_the_models_the_config_uses(tmp_path: Path) -> None:
    with serve_fake_openai(["hi"]) as fake:
        config = tmp_path / "c.toml"
        config.write_text(
            f'models_dir = "{tmp_path}"\n'
            f'[models.remote]\nbackend = "openai"\nurl = "{fake.url}"\n'
            '[models.spare]\nsource = "qwen2.5-coder-1.5b"\n'  # not pulled, and not used
            '[agent]\nmodel = "remote"\n'
        )
        code, output = check(config, "doctor")
    assert code == 0, output
    assert "model remote: server" in output and "answers" in output
    assert "model spare: not used by this config" in output


SELF = {
    "command": "/home/me/homelab-agent/.venv/bin/homelab-agent",
    "args": ["serve", "--transport", "stdio"],
}
SELF_MODULE = {"command": "python3", "args": ["-m", "agent", "--config", "x.toml", "serve"]}
NOTES = {"command": sys.executable, "args": ["-m", "tests.support.notes_server"], "cwd": str(ROOT)}


def test_entries_that_start_this_agent_are_recognised() -> None:
    assert ServerSettings.model_validate(SELF).serves_this_agent()
    assert ServerSettings.model_validate(SELF_MODULE).serves_this_agent()
    assert not ServerSettings.model_validate(NOTES).serves_this_agent()
    assert not ServerSettings.model_validate({"command": "homelab-agent-kanboard"}).serves_this_agent()


def test_a_reused_claude_desktop_file_that_lists_this_agent_does_not_make_it_its_own_tool(
    tmp_path: Path,
) -> None:
    desktop = tmp_path / "claude_desktop_config.json"
    desktop.write_text(json.dumps({"mcpServers": {"homelab-agent": SELF, "notes": NOTES}}))
    config = tmp_path / "c.toml"
    config.write_text(f'mcp_config = "{desktop}"\n')
    code, output = check(config, "tools")
    assert code == 0, output
    assert "notes__get_note" in output
    assert "homelab-agent__" not in output
    _, checked = check(config, "config", "check")
    assert "server homelab-agent: stdio" in checked and "this agent itself: left out" in checked
    assert load_config(config).mcpServers["homelab-agent"].serves_this_agent()
