"""Generating a turn's tokens once its prompt is evaluated: one at a time, or speculatively.

One token at a time, each generated token is evaluated before the next is picked. With a
`PromptLookup`, a token is evaluated together with the tokens the lookup guesses will follow it
(copied from the prompt: answers mostly quote tool results), in one batch with logits at every
position; the guesses are accepted, in order, as long as each is the token the model picks itself
from the logits before it, and the KV cache is cut back after the last one accepted. The model's
own pick where a guess failed is the next token, so one batch yields at least one token and, when
the model copies, up to `draft_max + 1`. On a CPU a batch of a few tokens costs not much more
than one (the weights are read once for all of them), which is where the speed comes from.

The output is the same token for token as without speculation: every token is the sampler's pick
from the logits of exactly the tokens before it, and the grammar only ever sees accepted tokens.
(Batched and single-token evaluation may round differently in the last bits; at temperature 0 this
could flip a near tie, which the tests would show.) So speculation is used at temperature 0 only;
sampling at a higher temperature goes one token at a time.

Not here: evaluating the prompt and reusing the KV cache (`kv_cache`, `model`), choosing a token
(`sampler`), guessing (`lookup`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import llama_cpp
import numpy as np
import numpy.typing as npt

from agent.models.llama import shim
from agent.models.llama.lookup import PromptLookup
from agent.models.llama.sampler import Sampler

__all__ = ["Decoded", "decode"]


@dataclass
class Decoded:
    """What one turn's generation did."""

    produced: int = 0  # tokens generated (the end-of-turn token not counted)
    drafted: int = 0  # tokens guessed by the lookup and checked
    accepted: int = 0  # guesses the model agreed with
    batches: int = 0  # evaluations with guesses in them
    first_token_at: float | None = None  # perf_counter() when the first token was picked


def decode(
    llm: llama_cpp.Llama,
    sampler: Sampler,
    *,
    budget: int,
    emit: Callable[[int], None],
    cancel: threading.Event,
    lookup: PromptLookup | None = None,
    batch: shim.Batch | None = None,
    draft_max: int = 0,
) -> Decoded:
    """Generate after the evaluated prompt until end of turn, `budget` tokens, or `cancel`.

    `emit` gets each accepted token, in order. Guesses come from `lookup` (at most `draft_max` per
    batch, in `batch`); without one, or at a temperature above 0, tokens are evaluated one by one.
    """
    ctx, n_vocab = llm.ctx, llm.n_vocab()
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    speculate = lookup is not None and batch is not None and draft_max > 0 and sampler.temperature <= 0
    if speculate and batch is not None:
        draft_max = min(draft_max, batch.capacity - 1)
    done = Decoded()

    def logits(i: int) -> npt.NDArray[np.single]:
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(n_vocab,))

    def ends(token: int | None) -> bool:
        return token is None or token < 0 or bool(llama_cpp.llama_vocab_is_eog(vocab, token))

    def accept(token: int) -> None:
        sampler.accept(token)
        done.produced += 1
        if lookup is not None:
            lookup.push(token)
        emit(token)

    pending: int | None = sampler.sample(logits(-1))
    done.first_token_at = time.perf_counter()
    while not cancel.is_set() and not ends(pending) and done.produced < budget:
        assert pending is not None
        accept(pending)
        if done.produced >= budget:
            break
        drafts = lookup.draft(min(draft_max, budget - done.produced)) if speculate and lookup else []
        if not drafts or batch is None:
            llm.eval([pending])
            pending = sampler.sample(logits(-1))
            continue
        shim.decode_all(llm, batch, [pending, *drafts])
        done.batches += 1
        done.drafted += len(drafts)
        kept = 1  # of the batch's tokens: `pending`, then the guesses accepted
        for i, guess in enumerate(drafts):
            pending = sampler.sample(logits(i))
            if pending != guess or ends(guess) or cancel.is_set():
                break
            accept(guess)
            done.accepted += 1
            kept += 1
        else:
            pending = sampler.sample(logits(len(drafts)))
        if kept < len(drafts) + 1:
            shim.truncate(llm, llm.n_tokens - (len(drafts) + 1 - kept))
    return done
