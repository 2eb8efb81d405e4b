"""Every reach past llama-cpp-python's public API, in one place, checked against the pinned version.

The backend keeps llama-cpp-python's record of what the KV cache holds in step with what it does
to the cache: it rewinds to the prefix a new prompt shares, and after restoring a saved KV state it
says which tokens that state holds. llama-cpp-python has no public call for either, so this module
writes the `Llama` object's `input_ids`, `n_tokens` and `_requires_eval` the way its own
`Llama.generate` does. That is why llama-cpp-python is pinned to one version (`PINNED`, as in
pyproject.toml): `check` names any of these attributes another version lacks, the model calls it
when it loads, and `tests/models/test_llama_shim.py` runs it on a real `Llama`, so an upgrade fails
loudly there rather than in the middle of an answer.

Everything else the backend uses is public: `Llama.ctx`, `Llama.model`, `eval`, `tokenize`, and
the `llama_cpp.llama_*` C bindings.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from agent.exceptions import ModelLoadError

__all__ = ["PINNED", "REACHES", "check", "evaluated", "holds", "rewind"]

PINNED = "0.3.36"
REACHES = ("input_ids", "n_tokens", "_requires_eval")
"""The `Llama` attributes written here: the evaluated tokens, their count, "evaluate before sampling"."""


def installed() -> str:
    """The llama-cpp-python version installed, or "unknown"."""
    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return "unknown"


def check(llm: Any) -> None:
    """Raise `ModelLoadError` naming every attribute of `REACHES` that `llm` lacks."""
    missing = [f"Llama.{name}" for name in REACHES if not hasattr(llm, name)]
    if missing:
        raise ModelLoadError(
            f"llama-cpp-python {installed()} has no {', '.join(missing)}, which homelab-agent's llama.cpp "
            f"backend writes (agent/models/llama/shim.py, written against llama-cpp-python {PINNED}); "
            f"install llama-cpp-python=={PINNED}"
        )


def evaluated(llm: Any) -> list[int]:
    """The tokens the KV cache holds now, in order."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def rewind(llm: Any, n: int) -> None:
    """Keep the first `n` evaluated tokens: the next `eval` drops the KV cache after them."""
    llm.n_tokens = n


def holds(llm: Any, tokens: Sequence[int]) -> None:
    """Record that a restored KV state holds `tokens`; they are evaluated again before sampling."""
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True
