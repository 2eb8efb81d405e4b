"""Reusing the KV cache: start from the longest prefix already evaluated, or saved in RAM.

A new prompt usually begins with the last one (the system prompt and tools, then the conversation
so far), so only its new tail is evaluated. When a prompt would throw away a long prefix (two
sessions taking turns), that KV state is saved to a RAM store first (`cache_ram_mb`) and restored
when a prompt that shares more of it comes back. Not here: sampling (`sampler`), the model (`model`).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence

import llama_cpp

from agent.exceptions import ModelError
from agent.models.llama import shim

__all__ = ["PrefixCache", "common_prefix"]

SAVE_WHEN_LOSING = 64  # save a state to RAM when a prompt would discard this many evaluated tokens


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens `a` and `b` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class _StateStore:
    """KV states of sequence 0 keyed by their tokens, least recently used evicted first."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()

    def save(self, llm: llama_cpp.Llama) -> None:
        size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
        if size > self.capacity:
            return
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(llm.ctx, buf, size, 0)
        key = tuple(shim.evaluated(llm))
        self.states[key] = bytes(buf)[:written]
        self.states.move_to_end(key)
        while sum(len(v) for v in self.states.values()) > self.capacity:
            self.states.popitem(last=False)

    def best(self, tokens: Sequence[int]) -> tuple[tuple[int, ...], int] | None:
        """The saved state sharing the longest prefix with `tokens`, and that length."""
        best: tuple[tuple[int, ...], int] | None = None
        for key in self.states:
            shared = common_prefix(key, tokens)
            if shared and (best is None or shared > best[1]):
                best = (key, shared)
        return best

    def restore(self, llm: llama_cpp.Llama, key: tuple[int, ...]) -> None:
        data = self.states[key]
        self.states.move_to_end(key)
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(llm.ctx, buf, len(data), 0) == 0:
            raise ModelError("could not restore a saved KV state")
        shim.holds(llm, key)


class PrefixCache:
    """The KV cache of one `Llama`, reused by prefix across requests, with a RAM store of states."""

    def __init__(self, llm: llama_cpp.Llama, ram_bytes: int) -> None:
        self._llm = llm
        self._store = _StateStore(ram_bytes) if ram_bytes else None

    def reuse(self, tokens: list[int]) -> int:
        """Bring the longest known prefix of `tokens` into the KV cache; how many tokens it keeps."""
        llm = self._llm
        evaluated = shim.evaluated(llm)
        current = common_prefix(evaluated, tokens)
        if self._store is not None:
            if len(evaluated) - current >= SAVE_WHEN_LOSING:
                self._store.save(llm)
            best = self._store.best(tokens)
            if best is not None and best[1] > current + 1:
                self._store.restore(llm, best[0])
                current = best[1]
        keep = min(current, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        shim.rewind(llm, keep)
        return keep

    def forget(self) -> None:
        """Evaluate from the start next time (after a failure left the KV cache unknown)."""
        shim.rewind(self._llm, 0)
