"""Turn one `[models.NAME]` entry into a running model.

Resolves the source (a known model, `hf:OWNER/REPO/FILE.gguf`, or a path) to a file and loads it
with `LocalModel`, or connects `OpenAICompatModel` to a server. It never downloads: a missing file
is an error that says which `homelab-agent models pull` to run.
"""

from __future__ import annotations

from pathlib import Path

from agent.exceptions import ConfigError, ModelNotFoundError
from agent.models.base import Model
from agent.models.catalog import DEFAULT_MODEL, KNOWN_MODELS, resolve
from agent.models.prefix_states import PrefixStates
from agent.models.settings import LlamaSettings, ModelSettings

__all__ = ["build_model", "model_path"]


def model_path(settings: LlamaSettings, name: str, models_dir: Path) -> Path:
    """The GGUF file a llama_cpp model entry names (it may not exist yet)."""
    source = settings.source or (name if name in KNOWN_MODELS else None)
    if source is None:
        raise ConfigError(
            f"models.{name}.source is not set; use a known model ({', '.join(KNOWN_MODELS)}), "
            "hf:OWNER/REPO/FILE.gguf, or the path of a .gguf file"
        )
    return resolve(source, models_dir.expanduser())


def build_model(
    settings: ModelSettings, name: str, models_dir: Path, states: PrefixStates | None = None
) -> Model:
    """Load or connect the model `settings` describes; blocking for local models (seconds).

    `states`: where a local model keeps its prompt's stable prefix across processes (None: nowhere).

    Raises:
        ConfigError: the entry lacks what its backend needs.
        ModelNotFoundError: no file where the source points.
        ModelLoadError: a file that is not a loadable GGUF, or too large for this machine.
    """
    if settings.backend == "openai":
        from agent.models.endpoints import RetryPolicy
        from agent.models.openai_compat import OpenAICompatModel

        return OpenAICompatModel(
            base_url=settings.all_urls,
            model=settings.remote_model or name,
            name=name,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            timeout_s=settings.timeout_s,
            constraint=settings.constraint,
            retry=RetryPolicy(tries=settings.retry_tries, total_s=settings.retry_total_s),
        )
    path = model_path(settings, name, models_dir)
    if not path.is_file():
        source = settings.source or name
        pull = source if source in KNOWN_MODELS or source.startswith("hf:") else DEFAULT_MODEL
        raise ModelNotFoundError(
            f"no model file at {path}; run `homelab-agent models pull {pull}` or fix models.{name}.source"
        )
    from agent.models.llama import LocalModel

    return LocalModel.load(path, settings, name=name, states=states)
