"""The layers stay apart: the tool servers and the shared package import nothing of the agent, and
only the llama.cpp backend imports llama_cpp (the benchmarks too go through it).

Each import runs in a fresh interpreter, so what one test imported cannot hide what another needs.
"""

from __future__ import annotations

import re
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


def test_only_the_llama_package_imports_llama_cpp_not_even_a_benchmark() -> None:
    importing = re.compile(r"^\s*(import llama_cpp|from llama_cpp)", re.MULTILINE)
    found = [
        str(path.relative_to(ROOT))
        for folder in ("agent", "tools", "homelab_common", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if importing.search(path.read_text()) and "agent/models/llama/" not in path.as_posix()
    ]
    assert found == []


def test_nothing_in_the_repository_reads_a_folder_beside_it() -> None:
    # A clone of the repository alone must pass its tests: the recorded Kanboard samples and every
    # other fixture live under tests/, never in the sibling folder the samples were recorded into.
    sibling = "shared"
    outside = re.compile(rf"\.\./({sibling}|kanboard)\b|\b{sibling}/kanboard\b")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("agent", "tools", "homelab_common", "tests", "benchmarks", "scripts", ".ci")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".sh", ".toml", ".json", ""}
        and outside.search(path.read_text(errors="ignore"))
    ]
    assert found == []


def test_no_code_imports_a_private_module_of_the_mcp_sdk() -> None:
    # `mcp.shared._httpx_utils` and the like may change in any release; only the tests may peek
    private = re.compile(r"^\s*(from|import) mcp[a-z_]*(\.\w+)*\._\w+", re.MULTILINE)
    found = [
        str(path.relative_to(ROOT))
        for folder in ("agent", "tools", "homelab_common", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if private.search(path.read_text())
    ]
    assert found == []
