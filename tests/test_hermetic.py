"""The suite answers the same whatever the user's checkout, home and shell hold.

A sample of the command-line tests runs in a child pytest started from a directory holding a
`homelab-agent.toml`, with a home holding `~/.config/homelab-agent/config.toml` and a models
directory with a model in it, and with `KANBOARD_URL`, `DOCKER_HOST` and `HOMELAB_AGENT_*` set: every
one of them would change what `doctor`, `models` or `config check` say if the suite read them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent.models.catalog import KNOWN_MODELS

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = [
    "tests/models/test_cli.py",
    "tests/agent/test_cli.py",
    "tests/agent/test_cli_checks.py",
]

HOSTILE_CONFIG = """\
models_dir = "{models}"
[models.large]
source = "qwen2.5-coder-1.5b"
[agent]
model = "large"
[mcpServers.kanboard]
command = "homelab-agent-kanboard"
env = {{ KANBOARD_URL = "http://127.0.0.1:9/hostile", KANBOARD_TOKEN = "hostile-token" }}
"""


def _hostile(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A checkout directory and an environment that would change the sample's answers if read."""
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    models = home / ".cache" / "homelab-agent" / "models"
    models.mkdir(parents=True)
    for name in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
        (models / KNOWN_MODELS[name].filename).write_bytes(b"GGUF not really")
    (home / ".config" / "homelab-agent").mkdir(parents=True)
    config = HOSTILE_CONFIG.format(models=models)
    (home / ".config" / "homelab-agent" / "config.toml").write_text(config)
    checkout.mkdir()
    (checkout / "homelab-agent.toml").write_text(config)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "KANBOARD_URL": "http://127.0.0.1:9/hostile",
        "KANBOARD_TOKEN": "hostile-token",
        "DOCKER_HOST": "tcp://127.0.0.1:9",
        "HOMELAB_AGENT_MODELS_DIR": str(models),
        "HOMELAB_AGENT_MODEL": "qwen3-14b",
        "HOMELAB_AGENT_TOKEN": "hostile-token-hostile-token",
        "HF_ENDPOINT": "http://127.0.0.1:9",
    }
    return checkout, env


def test_command_line_tests_pass_with_a_hostile_config_home_and_environment(tmp_path: Path) -> None:
    checkout, env = _hostile(tmp_path)
    child = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not real_model",
            "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
            *(str(ROOT / path) for path in SAMPLE),
        ],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
    assert " passed" in child.stdout.splitlines()[-1]


def test_the_suite_runs_in_a_home_and_directory_of_its_own() -> None:
    assert Path.cwd() != ROOT and not Path.cwd().is_relative_to(ROOT)
    assert not (Path.home() / ".config" / "homelab-agent").exists()
    leaked = [n for n in os.environ if n.startswith(("KANBOARD_", "DOCKER_")) or n == "HOMELAB_AGENT_MODEL"]
    assert leaked == []
