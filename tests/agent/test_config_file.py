"""Switching a config's answering model: one `source` line changes, comments and layout stay."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from agent.config import load_config
from agent.config_file import answering_entry, set_model_source
from agent.exceptions import ConfigError

EXAMPLE = Path(__file__).parents[2] / "config" / "homelab-agent.example.toml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "homelab-agent.toml"
    shutil.copy(EXAMPLE, path)
    return path


def test_the_example_config_switches_its_answering_model_by_one_line(example: Path) -> None:
    before = example.read_text()
    entry = answering_entry(load_config(example, env={}))
    assert entry == "large"
    old = set_model_source(example, entry, "qwen3-14b")
    assert old == "qwen2.5-coder-1.5b"
    after = example.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0].startswith('source = "qwen2.5-coder-1.5b"  # with a GPU')
    assert changed[0][1] == changed[0][0].replace("qwen2.5-coder-1.5b", "qwen3-14b", 1)
    config = load_config(example, env={})
    assert (
        config.models["large"].source == "qwen3-14b" and config.models["small"].source == "qwen2.5-coder-0.5b"
    )


def test_a_trailing_comment_and_odd_spacing_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[models."big one"]\n  source   =  \'old.gguf\'   # mine\nn_ctx = 4096\n[agent]\nmodel = "big one"\n'
    )
    assert set_model_source(path, "big one", "hf:a/b/c.gguf") == "old.gguf"
    assert path.read_text().splitlines()[1] == '  source = "hf:a/b/c.gguf"   # mine'


def test_a_table_without_a_source_gets_one_under_its_header(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[models.large]\nn_ctx = 4096\n\n[agent]\nmodel = 'large'\n")
    assert set_model_source(path, "large", "qwen3-8b") is None
    assert tomllib.loads(path.read_text())["models"]["large"] == {"source": "qwen3-8b", "n_ctx": 4096}


def test_an_entry_written_as_dotted_keys_is_refused_with_what_to_change_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    text = 'models.large.source = "x.gguf"\n[agent]\nmodel = "large"\n'
    path.write_text(text)
    with pytest.raises(ConfigError, match=r'no \[models.large\] table; set models.large.source = "qwen3-8b"'):
        set_model_source(path, "large", "qwen3-8b")
    assert path.read_text() == text


def test_the_router_answers_with_its_large_model() -> None:
    config = load_config(EXAMPLE, env={}).model_copy(deep=True)
    config.agent.model = "router"
    assert answering_entry(config) == "large"
