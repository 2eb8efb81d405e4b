"""The one place that reaches past llama-cpp-python's public API fails loudly when an upgrade moves it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from agent.exceptions import ModelLoadError
from agent.models.llama import shim
from tests.support.real_model import real_model_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def vocab_only() -> Iterator[llama_cpp.Llama]:
    llm = llama_cpp.Llama(model_path=str(real_model_path()), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def test_the_shim_is_written_against_the_version_pyproject_pins() -> None:
    pinned = re.search(r'"llama-cpp-python==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None and pinned.group(1) == shim.PINNED


def test_the_installed_llama_cpp_python_is_the_one_the_shim_was_written_for() -> None:
    assert shim.installed() == shim.PINNED, (
        f"llama-cpp-python {shim.installed()} is installed, but agent/models/llama/shim.py was written "
        f"against {shim.PINNED}: check that Llama still has {', '.join(shim.REACHES)} with the same "
        "meaning (test_every_attribute_the_shim_writes_exists_on_a_real_llama), then update PINNED"
    )


def test_a_llama_without_an_attribute_the_shim_writes_is_refused_naming_it_and_the_pin() -> None:
    class Upgraded:
        input_ids = np.zeros(4, dtype=np.intc)
        n_tokens = 0

    with pytest.raises(ModelLoadError, match=r"has no Llama\._requires_eval") as info:
        shim.check(Upgraded())
    assert f"llama-cpp-python=={shim.PINNED}" in str(info.value)


@pytest.mark.real_model
def test_every_attribute_the_shim_writes_exists_on_a_real_llama(vocab_only: llama_cpp.Llama) -> None:
    shim.check(vocab_only)
    assert isinstance(vocab_only.input_ids, np.ndarray) and vocab_only.input_ids.dtype == np.intc
    assert isinstance(vocab_only.n_tokens, int) and isinstance(vocab_only._requires_eval, bool)


@pytest.mark.real_model
def test_recording_a_restored_state_and_rewinding_move_the_evaluated_tokens(
    vocab_only: llama_cpp.Llama,
) -> None:
    shim.holds(vocab_only, [5, 6, 7])
    assert shim.evaluated(vocab_only) == [5, 6, 7] and vocab_only._requires_eval is True
    shim.rewind(vocab_only, 1)
    assert shim.evaluated(vocab_only) == [5]
    shim.rewind(vocab_only, 0)


@pytest.fixture(scope="module")
def small_llama() -> Iterator[llama_cpp.Llama]:
    llm = llama_cpp.Llama(model_path=str(real_model_path()), n_ctx=256, n_threads=1, verbose=False)
    yield llm
    llm.close()


def _argmax(llm: llama_cpp.Llama, i: int) -> int:
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, i), shape=(llm.n_vocab(),))
    return int(np.argmax(row))


@pytest.mark.real_model
def test_a_batch_gives_each_position_the_logits_one_by_one_evaluation_gives(
    small_llama: llama_cpp.Llama,
) -> None:
    tokens = small_llama.tokenize(b"The quick brown fox jumps over the lazy dog. The quick brown fox")
    small_llama.reset()
    small_llama.eval(tokens[:6])
    batch = shim.Batch(8)
    try:
        shim.decode_all(small_llama, batch, tokens[6:11])
        assert shim.evaluated(small_llama) == tokens[:11]
        batched = [_argmax(small_llama, i) for i in range(5)]
    finally:
        batch.close()
    shim.truncate(small_llama, 6)
    memory = llama_cpp.llama_get_memory(small_llama.ctx)
    assert shim.evaluated(small_llama) == tokens[:6]
    assert llama_cpp.llama_memory_seq_pos_max(memory, 0) == 5  # the KV cache was cut back too
    one_by_one = []
    for token in tokens[6:11]:
        small_llama.eval([token])
        one_by_one.append(_argmax(small_llama, -1))
    assert batched == one_by_one


def test_a_batch_refuses_more_tokens_than_it_holds() -> None:
    batch = shim.Batch(2)
    try:
        with pytest.raises(ValueError, match="1 to 2 tokens"):
            batch.fill([1, 2, 3], 0)
    finally:
        batch.close()
