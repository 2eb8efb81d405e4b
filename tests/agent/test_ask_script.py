"""`scripts/ask.sh` picks its model: the machine's best fit on a fresh checkout, else what is configured.

The script runs for real in a copy of the checkout's layout whose `scripts/setup.sh` and
`.venv/bin/homelab-agent` are stand-ins that record their arguments (the real ones are tested
elsewhere; here only the script's choices are).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

FAKE_CLI = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/calls.log"
if [[ "$*" == *"models recommend"* ]]; then
  echo "== best fit for this machine: qwen3-14b: fits entirely in the 11.5 GiB free on a test card" >&2
  echo qwen3-14b
fi
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "ask.sh", tmp_path / "scripts" / "ask.sh")
    (tmp_path / "scripts" / "setup.sh").write_text("#!/usr/bin/env bash\n")
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "homelab-agent.example.toml", tmp_path / "config")
    cli = tmp_path / ".venv" / "bin" / "homelab-agent"
    cli.parent.mkdir(parents=True)
    cli.write_text(FAKE_CLI)
    for script in (cli, tmp_path / "scripts" / "ask.sh", tmp_path / "scripts" / "setup.sh"):
        script.chmod(0o755)
    return tmp_path


def ask(checkout: Path, **env: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [str(checkout / "scripts" / "ask.sh"), "What is overdue?"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return (checkout / ".venv" / "bin" / "calls.log").read_text().splitlines(), done.stderr


def test_a_fresh_checkout_takes_the_model_that_suits_the_machine_and_says_why(checkout: Path) -> None:
    calls, err = ask(checkout)
    assert calls == [
        "--config homelab-agent.toml models recommend",
        "--config homelab-agent.toml models use qwen3-14b",
        "--config homelab-agent.toml ask --trace What is overdue?",
    ]
    assert "best fit for this machine: qwen3-14b: fits entirely" in err
    assert (checkout / "homelab-agent.toml").read_text() == (
        checkout / "config" / "homelab-agent.example.toml"
    ).read_text()  # the stand-in changed nothing; the real `models use` writes the source


def test_homelab_agent_model_wins_over_the_recommendation(checkout: Path) -> None:
    calls, _ = ask(checkout, HOMELAB_AGENT_MODEL="qwen2.5-coder-1.5b")
    assert calls[0] == "--config homelab-agent.toml models use qwen2.5-coder-1.5b"
    assert not any("recommend" in call for call in calls)


def test_an_existing_config_keeps_its_model_and_only_makes_sure_it_is_downloaded(checkout: Path) -> None:
    (checkout / "homelab-agent.toml").write_text('[models.large]\nsource = "qwen3-8b"\n')
    calls, _ = ask(checkout)
    assert calls == [
        "--config homelab-agent.toml models pull",
        "--config homelab-agent.toml ask --trace What is overdue?",
    ]
