"""Fixtures for model tests: the real Qwen2.5-Coder-0.5B (loaded once), its vocabulary, tiny GGUFs.

The real model is found by `tests.support.real_model.real_model_path` (tests fail, saying how to
get it, when it is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import gguf
import numpy as np
import pytest

from agent.models.settings import LlamaSettings
from tests.support.kanboard_tools import some_kanboard_tools
from tests.support.real_model import real_model_path

KANBOARD_TOOLS = some_kanboard_tools("overdue_tasks", "search_tasks")
"""Two of the Kanboard server's real tools: one with an optional argument, one with a required one."""


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    return real_model_path()


@pytest.fixture(scope="session")
def qwen_model(qwen_path: Path) -> Iterator[Any]:
    """The 0.5B loaded once for the session: n_ctx 4096, temperature 0, constrained, one thread.

    One thread: on a shared 2-core runner, two llama.cpp threads that wait on each other are
    several times slower than one.
    """
    from agent.models.llama import LocalModel

    settings = LlamaSettings(n_ctx=4096, temperature=0.0, n_gpu_layers=0, max_tokens=96, n_threads=1)
    model = LocalModel.load(qwen_path, settings, name="qwen-test")
    yield model
    anyio.run(model.aclose)


@pytest.fixture(scope="session")
def qwen_vocab(qwen_path: Path) -> Iterator[Any]:
    """The 0.5B's vocabulary only (no weights): enough to compile grammars."""
    import llama_cpp

    llm = llama_cpp.Llama(str(qwen_path), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def write_tiny_gguf(
    path: Path, *, arch: str = "llama", blocks: int = 2, template: str | None = None, width: int = 64
) -> Path:
    """A valid GGUF with model metadata and a few small tensors (not runnable, but readable)."""
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(blocks)
    writer.add_embedding_length(width)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_context_length(2048)
    writer.add_name("tiny test model")
    if template is not None:
        writer.add_chat_template(template)
    writer.add_token_list(["<s>", "</s>", "a", "b"])
    writer.add_tensor("token_embd.weight", np.zeros((4, width), dtype=np.float32))
    for i in range(blocks):
        weights = np.arange(width * width, dtype=np.float32).reshape(width, width) * (i + 1)
        writer.add_tensor(f"blk.{i}.attn_q.weight", weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_tiny_gguf(tmp_path / "tiny.gguf")
