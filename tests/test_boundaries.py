"""The layers stay apart: the tool servers and the shared package import nothing of the agent.

Each import runs in a fresh interpreter, so what one test imported cannot hide what another needs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import importlib, sys
importlib.import_module({module!r})
leaked = sorted(m for m in sys.modules if m == "agent" or m.startswith("agent."))
print(" ".join(leaked))
"""


@pytest.mark.parametrize(
    "module",
    ["tools.kanboard.__main__", "tools.docker.__main__", "tools.kanboard_demo", "homelab_common"],
)
def test_a_standalone_server_and_the_shared_package_import_nothing_of_the_agent(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "", f"{module} imports {done.stdout.strip()}"
