"""Every reach past llama-cpp-python's public API, in one place, checked against the pinned version.

The backend keeps llama-cpp-python's record of what the KV cache holds in step with what it does
to the cache: it rewinds to the prefix a new prompt shares, after restoring a saved KV state it
says which tokens that state holds, and speculative decoding evaluates a batch with logits at every
position (`Batch`, `decode_all`: `Llama.eval` keeps only the last position's, and
`logits_all=True` would cost n_ctx x n_vocab floats) and then drops the rejected tail
(`truncate`). llama-cpp-python has no public call for any of these, so this module writes the
`Llama` object's `input_ids`, `n_tokens` and `_requires_eval` the way its own `Llama.generate`
and `Llama.eval` do. That is why llama-cpp-python is pinned to one version (`PINNED`, as in
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

import llama_cpp

from agent.exceptions import ModelLoadError

__all__ = ["PINNED", "REACHES", "Batch", "check", "decode_all", "evaluated", "holds", "rewind", "truncate"]

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


def truncate(llm: Any, n: int) -> None:
    """Keep the first `n` evaluated tokens, and drop the KV cache after them now."""
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llm.ctx), 0, n, -1)
    llm.n_tokens = n


class Batch:
    """A `llama_batch` for up to `capacity` tokens of sequence 0 that asks for every position's logits."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._batch: Any = llama_cpp.llama_batch_init(capacity, 0, 1)

    def fill(self, tokens: Sequence[int], start: int) -> Any:
        """The batch holding `tokens` at positions `start`, `start + 1`, ..., each with logits."""
        if not 0 < len(tokens) <= self.capacity:
            raise ValueError(f"a batch holds 1 to {self.capacity} tokens, not {len(tokens)}")
        batch = self._batch
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1
        return batch

    def close(self) -> None:
        """Free the batch."""
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None


def decode_all(llm: Any, batch: Batch, tokens: Sequence[int]) -> None:
    """Evaluate `tokens` after the evaluated ones in one batch, keeping the logits of every position:
    the i-th is `llama_get_logits_ith(llm.ctx, i)` until the next evaluation.

    Raises:
        RuntimeError: llama.cpp failed to evaluate the batch (as `Llama.eval` raises).
    """
    start = llm.n_tokens
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llm.ctx), 0, start, -1)
    status = llama_cpp.llama_decode(llm.ctx, batch.fill(tokens, start))
    if status != 0:
        raise RuntimeError(f"llama_decode returned {status}")
    llm.input_ids[start : start + len(tokens)] = tokens
    llm.n_tokens = start + len(tokens)
    llm._requires_eval = False
