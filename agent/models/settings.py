"""How a model is configured: which weights, which backend, and how to run them.

Only data here; `agent.models.factory` turns a `ModelSettings` into a running model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ModelSettings"]


class ModelSettings(BaseModel):
    """One model entry of the config's `[models.NAME]` tables."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    # llama_cpp: a known model name ("qwen2.5-coder-0.5b"), a path to a .gguf file, or
    # "hf:OWNER/REPO/FILE.gguf" for a file from the Hugging Face hub.
    source: str | None = None
    # openai: the base URL of an OpenAI-compatible server (llama-server, Ollama, vLLM), e.g.
    # "http://127.0.0.1:8080/v1", and the model name that server knows.
    url: str | None = None
    remote_model: str | None = None
    api_key: SecretStr | None = None
    n_ctx: int = Field(default=8192, ge=512)  # context window, tokens
    n_threads: int | None = Field(default=None, ge=1)  # CPU threads; None = physical cores
    n_gpu_layers: int | Literal["auto"] = "auto"  # "auto" fits layers to free VRAM; 0 = CPU only
    flash_attn: bool | Literal["auto"] = "auto"  # "auto" = on when layers go to a GPU
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)  # per model turn
    constrained: bool = True  # grammar-constrained tool calls (llama_cpp only)
    cache_ram_mb: int = Field(default=512, ge=0)  # RAM for saved KV states of alternating sessions
    timeout_s: float = Field(default=120.0, gt=0)  # per request (openai backend)
