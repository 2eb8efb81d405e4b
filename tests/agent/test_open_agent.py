"""`open_agent` closes what it built and leaves what it was given to its caller."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app import open_agent
from agent.config import load_config
from agent.exceptions import ConfigError
from agent.models.scripted import ScriptedModel


async def test_a_model_handed_in_stays_open_so_a_second_runtime_can_answer_with_it(tmp_path: Path) -> None:
    path = tmp_path / "homelab-agent.toml"
    path.write_text('[models.m]\nsource = "x.gguf"\n[agent]\nmodel = "m"\n')
    config = load_config(path, env={})
    model = ScriptedModel(["first", "second"])
    for expected in ("first", "second"):
        async with open_agent(config, model=model) as runtime:
            assert (await runtime.agent.run("hi")).answer == expected
        assert not model.closed


async def test_a_config_with_only_servers_cannot_answer_and_says_what_to_add(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(json.dumps({"mcpServers": {"notes": {"command": "notes-server"}}}))
    config = load_config(path, env={})
    with pytest.raises(ConfigError, match=r"no \[models\] to answer with .* add a \[models\.NAME\] table"):
        async with open_agent(config):
            pass
