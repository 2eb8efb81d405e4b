"""Picking the next token in numpy, with a grammar checked lazily, as llama.cpp's own server does.

The model's preferred token is tried against the grammar first; only when the grammar rejects it
is the grammar applied to the whole vocabulary (applying it to every token on every step is what
makes llama-cpp-python's grammar sampling several times slower). Greedy at temperature 0, else
top-k 40, min-p 0.05 and top-p 0.95. Not here: evaluating tokens (`model`), grammars (`grammars`).
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

__all__ = ["Sampler"]

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class Sampler:
    """Samples one turn's tokens from logits; `grammar` is a llama.cpp grammar sampler or None."""

    def __init__(
        self, n_vocab: int, temperature: float, grammar: Any | None, seed: int | None = None
    ) -> None:
        self.temperature = temperature
        self.grammar = grammar
        self.rng = np.random.default_rng(seed)
        self.data = np.zeros((n_vocab,), dtype=_TOKEN_DATA)
        self.ids = np.arange(n_vocab, dtype=np.intc)
        self.array = llama_cpp.llama_token_data_array(
            data=self.data.ctypes.data_as(llama_cpp.llama_token_data_p),
            size=n_vocab,
            selected=-1,
            sorted=False,
        )
        self.one = np.zeros((1,), dtype=_TOKEN_DATA)
        self.one_array = llama_cpp.llama_token_data_array(
            data=self.one.ctypes.data_as(llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False
        )

    def _pick(self, logits: npt.NDArray[np.single]) -> int:
        if self.temperature <= 0:
            return int(np.argmax(logits))
        k = min(40, logits.shape[0])
        top = np.argpartition(logits, -k)[-k:]
        scaled = logits[top].astype(np.float64) / self.temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        keep = probs >= 0.05 * probs.max()  # min-p
        order = np.argsort(-probs[keep])
        cut = int(np.searchsorted(np.cumsum(probs[keep][order]), 0.95)) + 1  # top-p
        chosen = top[keep][order][:cut]
        weights = probs[keep][order][:cut]
        return int(self.rng.choice(chosen, p=weights / weights.sum()))

    def _allowed(self, token: int) -> bool:
        self.one["id"][0], self.one["logit"][0], self.one["p"][0] = token, 0.0, 0.0
        self.one_array.size, self.one_array.selected, self.one_array.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.one_array))
        return bool(np.isfinite(self.one["logit"][0]))

    def sample(self, logits: npt.NDArray[np.single]) -> int:
        """The next token, or -1 when the grammar admits none."""
        token = self._pick(logits)
        if self.grammar is None:
            return token
        if not self._allowed(token):
            self.data["id"], self.data["logit"], self.data["p"] = self.ids, logits, 0.0
            self.array.size, self.array.selected, self.array.sorted = self.data.shape[0], -1, False
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.array))
            masked = self.data["logit"]
            token = self._pick(masked) if np.isfinite(masked).any() else -1
        return token

    def accept(self, token: int) -> None:
        """Advance the grammar past `token`."""
        if self.grammar is not None:
            llama_cpp.llama_sampler_accept(self.grammar, token)
