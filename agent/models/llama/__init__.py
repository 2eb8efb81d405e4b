"""The llama.cpp backend: a GGUF model run in-process, the only package that imports `llama_cpp`.

    LocalModel.load(path, settings)   one turn: messages + tools -> calls or an answer
    gpu_offload_supported()           whether this build of llama.cpp can use a GPU

Split by job: `loading` (file checks, fitting layers to VRAM, threads), `model` (a turn, from
rendering the prompt to parsing the output), `kv_cache` (prefix reuse and the RAM store of KV
states), `sampler` (numpy sampling with a lazily checked grammar), `grammars` (compiled call
grammars), and `shim`: every reach past llama-cpp-python's public API, in one module, checked
against the pinned version. Templates (`chat_template`), grammar text (`grammar`) and output
parsing (`toolcalls`) are shared with other backends and live beside this package.
"""

from __future__ import annotations

from agent.models.llama.grammars import new_schema_converter
from agent.models.llama.loading import gpu_offload_supported
from agent.models.llama.model import LocalModel

__all__ = ["LocalModel", "gpu_offload_supported", "new_schema_converter"]
