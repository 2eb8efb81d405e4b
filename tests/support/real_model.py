"""Where the tests find the real Qwen2.5-Coder-0.5B GGUF.

HOMELAB_AGENT_TEST_MODEL, else where `homelab-agent models pull qwen2.5-coder-0.5b` puts it, else
/tmp/models/q05.gguf. Tests that need it are marked `real_model` and fail, saying how to get it,
when it is missing: a skipped test would prove nothing. `scripts/test.sh` pulls it first; for a
quick run without it, deselect them with `-m "not real_model"`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.config import Config
from agent.models.catalog import DEFAULT_MODEL, resolve

__all__ = ["real_model_path"]


def real_model_path() -> Path:
    """The 0.5B GGUF; fails the calling test when there is none."""
    env = os.environ.get("HOMELAB_AGENT_TEST_MODEL")
    candidates = [
        Path(env).expanduser() if env else None,
        resolve(DEFAULT_MODEL, Path(Config().models_dir).expanduser()),
        Path("/tmp/models/q05.gguf"),
    ]
    for path in candidates:
        if path is not None and path.is_file():
            return path
    pytest.fail(
        "no Qwen2.5-Coder-0.5B GGUF (looked at HOMELAB_AGENT_TEST_MODEL, the models directory and "
        "/tmp/models/q05.gguf): run `homelab-agent models pull qwen2.5-coder-0.5b`, or deselect "
        'these tests with -m "not real_model"'
    )
