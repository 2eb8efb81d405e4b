"""How a model is configured, per backend: which weights or which server, and how to run them.

A `[models.NAME]` table is one of two kinds, told apart by `backend`:

    ModelSettings
    ├── LlamaSettings .... backend = "llama_cpp" (the default): a GGUF file run in-process
    └── OpenAISettings ... backend = "openai": a model behind an OpenAI-compatible server

Each kind forbids the other's keys, so `n_ctx` on an `openai` model is a config error naming the
key. Only data here; `agent.models.factory` turns settings into a running model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, SecretStr, Tag, model_validator

__all__ = ["BACKENDS", "LlamaSettings", "ModelSettings", "OpenAISettings"]


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)  # per model turn


class LlamaSettings(_Common):
    """A GGUF model run in-process by llama.cpp."""

    backend: Literal["llama_cpp"] = "llama_cpp"
    # a known model name ("qwen2.5-coder-0.5b"), a path to a .gguf file, or "hf:OWNER/REPO/FILE.gguf"
    # for a file from the Hugging Face hub; default: the entry's own name when it is a known model
    source: str | None = None
    n_ctx: int = Field(default=8192, ge=512)  # context window, tokens
    n_threads: int | None = Field(default=None, ge=1)  # CPU threads; None = physical cores not busy
    n_gpu_layers: int | Literal["auto"] = "auto"  # "auto" fits layers to free VRAM; 0 = CPU only
    flash_attn: bool | Literal["auto"] = "auto"  # "auto" = on when layers go to a GPU
    constrained: bool = True  # a grammar admits only valid tool calls or a plain answer
    cache_ram_mb: int = Field(default=512, ge=0)  # RAM for saved KV states of alternating sessions
    # "prompt_lookup": guess the next tokens from the prompt (answers quote tool results) and check
    # the guesses in one batch; the output is the same as with "off" (temperature 0 only). Off by
    # default: on a 2-core CPU the rejected guesses cost more than the accepted ones save (RESULTS.md)
    speculative: Literal["prompt_lookup", "off"] = "off"
    draft_tokens: int = Field(default=8, ge=1, le=64)  # most guesses checked in one batch


class OpenAISettings(_Common):
    """A model behind an OpenAI-compatible server (llama-server, Ollama, vLLM), or several."""

    backend: Literal["openai"] = "openai"
    url: str  # the server's base URL, e.g. "http://127.0.0.1:8080/v1"
    # more servers with the same model: questions go to the least busy, one that fails is skipped
    # for a while; `urls` alone is fine too (the first becomes `url`)
    urls: list[str] = Field(default_factory=list)
    remote_model: str | None = None  # the model name that server knows; default: the entry's name
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=120.0, gt=0)  # per request
    # how a turn is held to one valid call or an answer: "grammar" (llama-server's GBNF),
    # "structured_outputs" (vLLM's grammar), "json_schema" (Ollama, any server with OpenAI's
    # response_format), "none" (the server's own tool calling); "auto": asked of the server
    constraint: Literal["auto", "grammar", "structured_outputs", "json_schema", "none"] = "auto"
    retry_tries: int = Field(default=4, ge=1)  # tries per turn, over all servers (429/502/503/504, resets)
    retry_total_s: float = Field(default=60.0, gt=0)  # the most seconds a turn spends retrying

    @model_validator(mode="before")
    @classmethod
    def _first_of_urls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" not in data and data.get("urls"):
            first, *rest = data["urls"]
            data = {**data, "url": first, "urls": rest}
        return data

    @property
    def all_urls(self) -> list[str]:
        """`url` and then `urls`, each once."""
        return list(dict.fromkeys([self.url, *self.urls]))


def _backend(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("backend", "llama_cpp"))
    return str(getattr(value, "backend", "llama_cpp"))


ModelSettings = Annotated[
    Annotated[LlamaSettings, Tag("llama_cpp")] | Annotated[OpenAISettings, Tag("openai")],
    Discriminator(_backend),
]
"""One `[models.NAME]` entry: `LlamaSettings` or `OpenAISettings`, chosen by its `backend` key."""

BACKENDS = ("llama_cpp", "openai")
