"""The system prompt: the packaged one by default, or the file `agent.system_prompt` names, dated."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.app import open_agent
from agent.config import load_config
from agent.exceptions import ConfigError
from agent.models.scripted import ScriptedModel
from agent.system_prompt import default_system_prompt, fill_prompt


def config_with(tmp_path: Path, agent_table: str) -> Path:
    path = tmp_path / "homelab-agent.toml"
    path.write_text(f'[models.m]\nsource = "x.gguf"\n[agent]\nmodel = "m"\n{agent_table}\n')
    return path


async def first_system_message(config_path: Path) -> str:
    model = ScriptedModel(["ok"])
    async with open_agent(load_config(config_path, env={}), model=model) as runtime:
        await runtime.agent.run("hi")
    return model.requests[0].messages[0].content


async def test_the_prompt_file_the_config_names_is_what_the_model_sees_with_the_date_filled_in(
    tmp_path: Path,
) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "mine.md").write_text('You run my homelab. Today: {today}. Keep {"json": 1}.\n')
    config = config_with(tmp_path, 'system_prompt = "prompts/mine.md"\ntimezone = "Europe/Berlin"')
    seen = await first_system_message(config)  # a relative path is read next to the config file
    today = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%A %Y-%m-%d")
    assert seen == f'You run my homelab. Today: {today}. Keep {{"json": 1}}.\n'


async def test_without_a_prompt_file_the_packaged_prompt_is_used(tmp_path: Path) -> None:
    seen = await first_system_message(config_with(tmp_path, 'timezone = "UTC"'))
    assert seen == default_system_prompt("UTC")
    assert "You answer questions about the user's self-hosted tools" in seen


async def test_a_prompt_file_that_cannot_be_read_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, 'system_prompt = "gone.md"'), env={})
    with pytest.raises(ConfigError, match=r"agent\.system_prompt: cannot read .*gone\.md"):
        async with open_agent(config, model=ScriptedModel()):
            pass


def test_today_and_the_timezone_are_filled_in_and_other_braces_left_alone() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))
    assert fill_prompt("{today} in {timezone}; {x}", "UTC", now) == "Monday 2026-11-23 in UTC; {x}"
