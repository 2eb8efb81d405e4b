"""A home, a working directory and an environment of the suite's own, whatever the user's hold.

`isolate()` runs once, when the test session starts (from `tests/conftest.py`), before any test or
the subprocesses tests start can read anything: it moves into an empty working directory (so a
`./homelab-agent.toml` in the checkout is never found), points HOME and the XDG directories at an
empty temporary home (so `~/.config/homelab-agent/config.toml`, the user's models directory and
prefix states are never found), and removes every variable the code or its tool servers read
(`HOMELAB_AGENT_*`, `KANBOARD_*`, `DOCKER_*`, `HF_*`, ...). Subprocesses inherit all of it.

What it keeps: the variables that configure the suite itself (`HOMELAB_AGENT_TEST_*`: the real
model's file and the scratch Docker Engine), `CI`, and the system's own (PATH, locale, TMPDIR).
It does not clean up the temporary home: it lies under the system's temp directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["ISOLATED_PREFIXES", "KEPT", "isolate"]

ISOLATED_PREFIXES = (
    "HOMELAB_AGENT_",
    "KANBOARD_",
    "DOCKER_",
    "HF_",
    "HUGGINGFACE_",
    "OPENAI_",
    "XDG_",
    "LLAMA_",
    "GGML_",
    "CUDA_VISIBLE_DEVICES",
)
"""Variables whose names start so are removed: our config, our tool servers', the hub's, llama.cpp's."""

KEPT = ("HOMELAB_AGENT_TEST_",)
"""...except these, which configure the test suite itself."""


def isolate() -> Path:
    """Give this process (and its children) an empty home, working directory and clean environment.

    Returns the new home directory.
    """
    root = Path(tempfile.mkdtemp(prefix="homelab-agent-tests-"))
    home, work = root / "home", root / "work"
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES) and not name.startswith(KEPT):
            del os.environ[name]
    os.environ["HOME"] = str(home)
    xdg = {"XDG_CONFIG_HOME": ".config", "XDG_CACHE_HOME": ".cache", "XDG_DATA_HOME": ".local/share"}
    for var, sub in xdg.items():
        (home / sub).mkdir(parents=True)
        os.environ[var] = str(home / sub)
    work.mkdir()
    os.chdir(work)
    return home
