"""Where the tests find the real Qwen2.5-Coder-0.5B GGUF.

HOMELAB_AGENT_TEST_MODEL, else the suite's own models directory, `.venv/test-models` (where
`scripts/test.sh` pulls it): never the user's models directory, which the suite does not read
(`tests.support.hermetic`). Tests that need it are marked `real_model` and fail, saying how to get
it, when it is missing: a skipped test would prove nothing. For a quick run without it, deselect
them with `-m "not real_model"`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.models.catalog import DEFAULT_MODEL, resolve

__all__ = ["TEST_MODELS_DIR", "real_model_path"]

TEST_MODELS_DIR = Path(__file__).resolve().parents[2] / ".venv" / "test-models"
"""The suite's own models directory: `scripts/test.sh` pulls the 0.5B here."""


def real_model_path() -> Path:
    """The 0.5B GGUF; fails the calling test when there is none."""
    env = os.environ.get("HOMELAB_AGENT_TEST_MODEL")
    candidates = [
        Path(env).expanduser() if env else None,
        resolve(DEFAULT_MODEL, TEST_MODELS_DIR),
    ]
    for path in candidates:
        if path is not None and path.is_file():
            return path
    pytest.fail(
        f"no Qwen2.5-Coder-0.5B GGUF (looked at HOMELAB_AGENT_TEST_MODEL and {TEST_MODELS_DIR}): run "
        f"`homelab-agent models pull qwen2.5-coder-0.5b --models-dir {TEST_MODELS_DIR}` (scripts/test.sh "
        'does), or deselect these tests with -m "not real_model"'
    )
