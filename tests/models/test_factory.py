"""Building models from config entries, and the load errors a person sees before llama.cpp runs."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from agent.exceptions import ConfigError, ModelLoadError, ModelNotFoundError
from agent.models.base import Model
from agent.models.factory import build_model, model_path
from agent.models.llama import LocalModel
from agent.models.openai_compat import OpenAICompatModel
from agent.models.settings import LlamaSettings, OpenAISettings


def test_a_missing_known_model_says_which_pull_to_run(tmp_path: Path) -> None:
    settings = LlamaSettings(source="qwen2.5-coder-0.5b")
    with pytest.raises(ModelNotFoundError) as caught:
        build_model(settings, "default", tmp_path)
    message = str(caught.value)
    assert f"no model file at {tmp_path}" in message
    assert "run `homelab-agent models pull qwen2.5-coder-0.5b` or fix models.default.source" in message


def test_a_missing_path_suggests_the_default_model_and_the_config_key(tmp_path: Path) -> None:
    settings = LlamaSettings(source=str(tmp_path / "gone.gguf"))
    with pytest.raises(
        ModelNotFoundError, match=r"models pull qwen2\.5-coder-0\.5b` or fix models\.big\.source"
    ):
        build_model(settings, "big", tmp_path)


def test_an_entry_named_after_a_known_model_needs_no_source(tmp_path: Path) -> None:
    path = model_path(LlamaSettings(), "gemma-3-270m", tmp_path)
    assert path == tmp_path / "gemma-3-270m-q4_k_m.gguf"


def test_an_entry_without_a_source_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.mine\.source is not set"):
        build_model(LlamaSettings(), "mine", tmp_path)


def test_a_non_gguf_file_is_rejected_before_llama_cpp_sees_it(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelLoadError, match="not a GGUF model file"):
        build_model(LlamaSettings(source=str(fake)), "default", tmp_path)


def test_a_model_too_large_for_available_ram_is_refused_with_sizes(tiny_gguf: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"needs about .* GiB of RAM .* lower n_ctx"):
        LocalModel.load(tiny_gguf, LlamaSettings(n_ctx=4096), ram_available=64 * 1024**2, free_vram=0)


def test_a_gguf_llama_cpp_cannot_load_is_a_load_error_with_advice(tiny_gguf: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"llama\.cpp could not load"):
        LocalModel.load(tiny_gguf, LlamaSettings(n_ctx=512), free_vram=0)


def test_the_openai_backend_builds_an_http_model_that_fits_the_interface(tmp_path: Path) -> None:
    settings = OpenAISettings(url="http://127.0.0.1:9/v1", remote_model="qwen")
    model = build_model(settings, "remote", tmp_path)
    assert isinstance(model, OpenAICompatModel) and isinstance(model, Model)
    assert model.name == "remote"
    anyio.run(model.aclose)


def test_an_openai_entry_with_urls_alone_takes_the_first_as_url_and_keeps_each_once() -> None:
    settings = OpenAISettings.model_validate({"urls": ["http://a:8080/v1", "http://b:8080/v1"]})
    assert settings.url == "http://a:8080/v1" and settings.all_urls == [
        "http://a:8080/v1",
        "http://b:8080/v1",
    ]
    both = OpenAISettings(url="http://a:8080/v1", urls=["http://a:8080/v1", "http://c:8080/v1"])
    assert both.all_urls == ["http://a:8080/v1", "http://c:8080/v1"]


def test_an_unknown_constraint_is_refused_naming_the_choices() -> None:
    from pydantic import ValidationError

    with pytest.raises(
        ValidationError, match="'auto', 'grammar', 'structured_outputs', 'json_schema' or 'none'"
    ):
        OpenAISettings(url="http://a/v1", constraint="gbnf")  # type: ignore[arg-type]
