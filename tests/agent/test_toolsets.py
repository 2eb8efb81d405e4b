"""Namespacing and filtering toolsets, and what survives the trip through MCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from agent.config import ServerSettings
from agent.exceptions import ToolNotFoundError, ToolServerError
from agent.toolsets.base import FilteredToolset, Toolbox
from agent.toolsets.mcp import MCPToolset
from tests.support.notes_server import build_server


@asynccontextmanager
async def two_notes_servers() -> AsyncIterator[tuple[MCPToolset, MCPToolset]]:
    """Two copies of the notes server, in-process, as `home` and `work`."""
    async with anyio.create_task_group() as tg:
        home = MCPToolset("home", tg, server=build_server())
        work = MCPToolset("work", tg, server=build_server())
        yield home, work
        await home.aclose()
        await work.aclose()
        tg.cancel_scope.cancel()


async def test_two_servers_can_both_offer_search_under_their_own_prefix() -> None:
    async with two_notes_servers() as servers:
        box = Toolbox(list(servers))
        names = [t.name for t in await box.list_tools()]
        result = await box.call_tool("work__get_note", {"topic": "router"})
    assert "home__search" in names and "work__search" in names
    assert "OPNsense" in result.text


async def test_without_prefixes_a_name_clash_is_reported() -> None:
    async with two_notes_servers() as servers:
        with pytest.raises(ToolNotFoundError, match="turn on tool prefixes"):
            await Toolbox(list(servers), prefix=False).list_tools()


async def test_allow_and_deny_lists_hide_tools_from_listing_and_calls() -> None:
    async with two_notes_servers() as (home, _):
        filtered = FilteredToolset(home, allow=["get_*", "search", "crash"], deny=["crash"])
        assert [t.name for t in await filtered.list_tools()] == ["get_note", "search"]
        with pytest.raises(ToolNotFoundError, match="not enabled on server 'home'"):
            await filtered.call_tool("crash", {})


async def test_tool_annotations_and_schemas_survive_the_trip_through_mcp() -> None:
    async with two_notes_servers() as (home, _):
        specs = {t.name: t for t in await home.list_tools()}
    note = specs["get_note"]
    assert note.read_only is True
    assert note.parameters["required"] == ["topic"]
    assert note.description == "Read the note about a topic."


async def test_structured_results_keep_both_text_and_structure() -> None:
    async with two_notes_servers() as (home, _):
        result = await home.call_tool("get_note", {"topic": "backup"})
    assert result.text.startswith("Nightly ZFS")
    assert result.structured == {"result": result.text}


async def test_a_tool_error_result_is_marked_as_an_error_with_its_message() -> None:
    async with two_notes_servers() as (home, _):
        result = await home.call_tool("get_note", {"topic": "nas"})
    assert result.is_error and "no note about 'nas'" in result.text


async def test_a_server_that_cannot_start_gives_a_clear_error() -> None:
    async with anyio.create_task_group() as tg:
        missing = MCPToolset("ghost", tg, settings=ServerSettings(command="/nonexistent/mcp-server"))
        with pytest.raises(ToolServerError, match="MCP server 'ghost' could not start"):
            await missing.list_tools()
        tg.cancel_scope.cancel()


async def test_one_server_that_cannot_start_does_not_hide_the_others() -> None:
    async with anyio.create_task_group() as tg:
        ghost = MCPToolset("ghost", tg, settings=ServerSettings(command="/nonexistent/mcp-server"))
        notes = MCPToolset("notes", tg, server=build_server())
        names = [t.name for t in await Toolbox([ghost, notes]).list_tools()]
        with pytest.raises(ToolServerError, match="'ghost' could not start"):
            await Toolbox([ghost]).list_tools()
        await notes.aclose()
        tg.cancel_scope.cancel()
    assert "notes__get_note" in names and not any(n.startswith("ghost") for n in names)


async def test_each_servers_instructions_come_under_a_heading_that_says_how_its_tools_are_named() -> None:
    async with two_notes_servers() as (home, work):
        guide = await Toolbox([home, FilteredToolset(work, deny=["*"])]).instructions()
    assert guide.startswith("## Server home (its tools are named home__TOOL)\nNotes about the homelab")
    assert "## Server work" in guide


async def test_tools_are_listed_again_once_the_listing_is_older_than_its_ttl() -> None:
    async with anyio.create_task_group() as tg:
        server = build_server()
        fresh = MCPToolset("notes", tg, server=server, tools_ttl_s=0)
        assert "add_note" not in {t.name for t in await fresh.list_tools()}

        @server.tool()
        def add_note(topic: str, text: str) -> str:
            """Write a note."""
            return "ok"

        assert "add_note" in {t.name for t in await fresh.list_tools()}
        await fresh.aclose()
        tg.cancel_scope.cancel()


async def test_an_in_process_servers_tools_are_listed_as_the_agent_names_them() -> None:
    from agent.toolsets.mcp import list_server_tools

    tools = await list_server_tools({"notes": build_server()})
    assert [t.name for t in tools][:2] == ["notes__get_note", "notes__search"]
    assert tools[0].parameters["required"] == ["topic"]


async def test_a_server_without_its_backend_offers_no_tools_and_the_instructions_say_why() -> None:
    from agent.loop import Agent
    from agent.models.scripted import ScriptedModel
    from tools.docker import DockerSettings
    from tools.docker import build_server as docker_server

    async with anyio.create_task_group() as tg:
        notes = MCPToolset("notes", tg, server=build_server())
        docker = MCPToolset(
            "docker", tg, server=docker_server(DockerSettings(host="unix:///nonexistent/d.sock"))
        )
        box = Toolbox([notes, docker])
        names = [t.name for t in await box.list_tools()]
        guide = await box.instructions()
        with pytest.raises(ToolNotFoundError, match="no tool named 'docker__list_containers'"):
            await box.call_tool("docker__list_containers", {})
        model = ScriptedModel(script=["No Docker here."])
        await Agent(model, box).run("Is Jellyfin up?")
        await box.list_tools()
        assert docker.starts == 1  # it answered the listing: still connected, not restarted
        await notes.aclose()
        await docker.aclose()
        tg.cancel_scope.cancel()
    assert names and not any(n.startswith("docker__") for n in names)
    assert (
        "## Server docker\nNot available now, so it offers no tools: Docker is not reachable: No Docker"
        in guide
    )
    (request,) = model.requests
    assert "Docker is not reachable" in request.messages[0].content
    assert not any(t.name.startswith("docker__") for t in request.tools)
