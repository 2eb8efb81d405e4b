"""The README's two commands are what CI runs, in the README's order."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md has a 'The two commands' section with a bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_the_readme_holds_two_commands_set_up_and_ask_then_test() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].startswith("scripts/ask.sh ") and commands[1] == "scripts/test.sh"


def test_ci_runs_the_readmes_two_commands_in_the_readmes_order() -> None:
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("scripts/")
    ]
    assert ci == _readme_commands()
