"""The benchmark asks through the servers the example config ships, or through Kanboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models.scripted import ScriptedModel
from benchmarks.kanboard_qa.questions import QUESTIONS, pick
from benchmarks.kanboard_qa.runner import run_questions
from benchmarks.kanboard_qa.servers import MISSING_DOCKER, SHIPPED_CONFIG, Servers, open_servers
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import demo_transport


def test_the_benchmark_reads_the_example_config_a_new_user_copies() -> None:
    assert SHIPPED_CONFIG.name == "homelab-agent.example.toml" and SHIPPED_CONFIG.exists()
    assert Servers().mode == "shipped" and Servers().docker_host == MISSING_DOCKER


async def test_the_shipped_servers_are_kanboard_and_docker_named_as_the_config_names_them() -> None:
    async with open_servers(Servers(), demo_transport(), writes=False) as toolbox:
        assert [t.name for t in toolbox.toolsets] == ["kanboard", "docker"]
        names = [t.name for t in await toolbox.list_tools()]
        guide = await toolbox.instructions()
    assert "kanboard__search_tasks" in names
    # with no engine at DOCKER_HOST the Docker server offers nothing, and the model is told why
    assert not any(n.startswith("docker__") for n in names)
    assert "## Server docker\nNot available now, so it offers no tools: Docker is not reachable" in guide


async def test_kanboard_alone_offers_only_the_kanboard_tools() -> None:
    async with open_servers(Servers(mode="kanboard"), demo_transport(), writes=False) as toolbox:
        names = [t.name for t in await toolbox.list_tools()]
    assert names and all(n.startswith("kanboard__") for n in names)


async def test_a_server_the_benchmark_cannot_build_in_process_is_named_in_the_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[mcpServers.notes]\ncommand = "notes-mcp"\n')
    with pytest.raises(ValueError, match="server 'notes' runs 'notes-mcp'"):
        async with open_servers(Servers(config=config), demo_transport(), writes=False):
            pass


async def test_a_run_records_which_servers_it_asked_through() -> None:
    model = ScriptedModel(script=["I do not know."])
    shipped = await run_questions(model, pick(QUESTIONS, ids=["no-person"]), label="s")
    assert shipped.config["servers"] == "shipped" and shipped.config["docker_host"] == MISSING_DOCKER
    model = ScriptedModel(script=["I do not know."])
    alone = await run_questions(
        model, pick(QUESTIONS, ids=["no-person"]), label="k", servers=Servers(mode="kanboard")
    )
    assert alone.config["servers"] == "kanboard" and alone.config["docker_host"] is None


async def test_a_single_run_hands_its_kanboard_options_to_the_server_so_names_reach_the_schemas() -> None:
    def person(model: ScriptedModel) -> dict[str, object]:
        tools = {spec.name: spec for spec in model.requests[0].tools}
        return dict(tools["kanboard__tasks_of"].parameters["properties"]["person"])

    listed, default = ScriptedModel(script=["I do not know."]), ScriptedModel(script=["I do not know."])
    question = pick(QUESTIONS, ids=["no-person"])
    await run_questions(listed, question, label="list", kanboard=KanboardSettings(names="list"))
    await run_questions(default, question, label="default")
    assert "Alice Chen" in str(person(listed).get("description", ""))
    assert "description" not in person(default)
