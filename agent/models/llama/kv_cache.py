"""Reusing the KV cache: start from the longest prefix already evaluated, saved in RAM, or on disk.

A new prompt usually begins with the last one (the system prompt and tools, then the conversation
so far), so only its new tail is evaluated. When a prompt would throw away a long prefix (two
sessions taking turns), that KV state is saved to a RAM store first (`cache_ram_mb`) and restored
when a prompt that shares more of it comes back. The prompt's stable prefix (what every question
starts with: system prompt, instructions, tools) is also kept on disk (`PrefixStates`): the model
saves it the first time it has evaluated it (`wants_saved`, `save_prefix`), and a new process
restores it instead of evaluating it. Not here: sampling (`sampler`), the model (`model`), the
files (`agent.models.prefix_states`).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import llama_cpp
import structlog

from agent.exceptions import ModelError
from agent.models.llama import shim
from agent.models.prefix_states import PrefixStates

__all__ = ["PrefixCache", "common_prefix"]

log = structlog.get_logger(__name__)

SAVE_WHEN_LOSING = 64  # save a state to RAM when a prompt would discard this many evaluated tokens
STABLE_MIN = 64  # a stable prefix shorter than this is not worth a file


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
    """The KV cache of one `Llama`, reused by prefix across requests, with a RAM store of states
    and, given `disk` and the `key` its states are valid for, stable prefixes on disk."""

    def __init__(
        self,
        llm: llama_cpp.Llama,
        ram_bytes: int,
        disk: PrefixStates | None = None,
        key: Mapping[str, str] | None = None,
    ) -> None:
        self._llm = llm
        self._store = _StateStore(ram_bytes) if ram_bytes else None
        self._disk = disk if disk is not None and disk.max_bytes > 0 else None
        self._key = dict(key or {})
        self.restored_from_disk = 0  # tokens the last `reuse` restored from a file (0: none)

    @property
    def keeps_files(self) -> bool:
        """Whether stable prefixes are kept on disk."""
        return self._disk is not None

    def reuse(self, tokens: list[int], stable: int = 0) -> int:
        """Bring the longest known prefix of `tokens` into the KV cache; how many tokens it keeps.

        `stable`: how many leading tokens every prompt like this one starts with (what a file may hold).
        """
        llm = self._llm
        evaluated = shim.evaluated(llm)
        current = common_prefix(evaluated, tokens)
        self.restored_from_disk = 0
        if self._store is not None:
            if len(evaluated) - current >= SAVE_WHEN_LOSING:
                self._store.save(llm)
            best = self._store.best(tokens)
            if best is not None and best[1] > current + 1:
                self._store.restore(llm, best[0])
                current = best[1]
        if self._disk is not None and stable >= STABLE_MIN and current + 1 < stable:
            current = self._restore_prefix(tokens[:stable], current)
        keep = min(current, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        shim.rewind(llm, keep)
        return keep

    def _restore_prefix(self, prefix: list[int], current: int) -> int:
        """Load the file of `prefix` into the KV cache if there is a sound one; the tokens kept now."""
        assert self._disk is not None
        state = self._disk.load(self._key, prefix)
        if state is None:
            return current
        buf = (ctypes.c_uint8 * state.nbytes).from_buffer(state)
        if llama_cpp.llama_state_seq_set_data(self._llm.ctx, buf, state.nbytes, 0) == 0:
            # llama.cpp refused it (another KV layout): the sequence is now empty
            self._disk.discard(self._disk.path(self._key, prefix), "llama.cpp could not restore it")
            shim.truncate(self._llm, 0)
            return 0
        shim.holds(self._llm, prefix)
        self.restored_from_disk = len(prefix)
        return len(prefix)

    def wants_saved(self, tokens: list[int], stable: int, cached: int) -> bool:
        """Whether to save the first `stable` tokens once evaluated: none kept yet, and no file."""
        return (
            self._disk is not None
            and stable >= STABLE_MIN
            and cached < stable < len(tokens)
            and not self._disk.has(self._key, tokens[:stable])
        )

    def save_prefix(self, prefix: list[int]) -> None:
        """Save the KV state to disk as that of `prefix`: exactly the tokens evaluated now."""
        llm = self._llm
        if self._disk is None or shim.evaluated(llm) != prefix:
            return
        size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(llm.ctx, buf, size, 0)
        path = self._disk.save(self._key, prefix, memoryview(buf)[:written])
        log.info("prefix_state.saved", path=str(path), tokens=len(prefix), bytes=written)

    def clear(self) -> None:
        """Forget the KV cache and the RAM store, as a new process starts (the files stay)."""
        shim.truncate(self._llm, 0)
        if self._store is not None:
            self._store.states.clear()

    def forget(self) -> None:
        """Evaluate from the start next time (after a failure left the KV cache unknown)."""
        shim.rewind(self._llm, 0)
