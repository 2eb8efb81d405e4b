"""The agent as an MCP server, through an in-process `mcp.Client`."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.context import ClientRequestContext

from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from agent.serve.mcp_server import build_mcp_server
from tests.serve.conftest import GatedModel, echo, eventually, served

ADD = ToolCall(name="board__add_task", arguments={"title": "Buy fuses"})


async def test_ask_returns_the_answer_as_text_and_the_trace_as_structured_content() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks are open."])
    async with served(model) as service, Client(build_mcp_server(service)) as client:
        result = await client.call_tool("ask", {"question": "What is open?"})
    assert not result.is_error
    assert [b.text for b in result.content if isinstance(b, types.TextContent)] == ["Two tasks are open."]
    data = result.structured_content
    assert data is not None
    assert data["answer"] == "Two tasks are open."
    assert data["session_id"]
    assert [s["index"] for s in data["steps"]] == [1, 2]
    assert data["steps"][0]["tool_calls"][0]["name"] == "board__list_tasks"
    assert "Replace UPS battery" in data["steps"][0]["tool_calls"][0]["result"]


async def test_ask_reports_one_progress_notification_per_step() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "done"])
    seen: list[tuple[float, str | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    async with served(model) as service, Client(build_mcp_server(service)) as client:
        await client.call_tool("ask", {"question": "q"}, progress_callback=progress)
    assert seen == [(1, "step 1: board__list_tasks"), (2, "step 2: answering")]


async def test_a_follow_up_in_the_same_session_sees_the_earlier_question_and_answer() -> None:
    model = ScriptedModel(["The UPS battery.", "Last March."])
    async with served(model) as service, Client(build_mcp_server(service)) as client:
        first = await client.call_tool("ask", {"question": "What needs replacing?"})
        assert first.structured_content is not None
        sid = first.structured_content["session_id"]
        second = await client.call_tool("ask", {"question": "When was it bought?", "session_id": sid})
    assert second.structured_content is not None
    assert second.structured_content["session_id"] == sid
    contents = [m.content for m in model.requests[-1].messages]
    assert "What needs replacing?" in contents
    assert "The UPS battery." in contents


async def test_a_question_without_session_id_starts_a_new_conversation() -> None:
    model = ScriptedModel(["one", "two"])
    async with served(model) as service, Client(build_mcp_server(service)) as client:
        first = await client.call_tool("ask", {"question": "first?"})
        second = await client.call_tool("ask", {"question": "second?"})
    assert first.structured_content is not None and second.structured_content is not None
    assert first.structured_content["session_id"] != second.structured_content["session_id"]
    assert "first?" not in [m.content for m in model.requests[-1].messages]


async def test_a_write_is_refused_when_the_client_cannot_be_asked_and_writes_are_not_allowed() -> None:
    written: list[str] = []
    model = ScriptedModel([ADD, "I could not add it."])
    async with served(model, written=written) as service, Client(build_mcp_server(service)) as client:
        result = await client.call_tool("ask", {"question": "Add a task to buy fuses"})
    assert written == []
    assert result.structured_content is not None
    call = result.structured_content["steps"][0]["tool_calls"][0]
    assert call["is_error"] and "cannot ask its user" in call["result"] and "allow_writes" in call["result"]


async def test_a_write_runs_when_the_user_accepts_the_elicitation() -> None:
    written: list[str] = []
    asked: list[str] = []

    async def accept(context: ClientRequestContext, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    model = ScriptedModel([ADD, "Added."])
    async with (
        served(model, written=written) as service,
        Client(build_mcp_server(service), mode="legacy", elicitation_callback=accept) as client,
    ):
        result = await client.call_tool("ask", {"question": "Add a task to buy fuses"})
    assert written == ["Buy fuses"]
    assert len(asked) == 1 and "board__add_task" in asked[0] and "Buy fuses" in asked[0]
    assert result.structured_content is not None
    assert not result.structured_content["steps"][0]["tool_calls"][0]["is_error"]


async def test_a_write_is_refused_when_the_user_declines_even_if_config_allows_writes() -> None:
    written: list[str] = []

    async def decline(context: ClientRequestContext, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    model = ScriptedModel([ADD, "Not added."])
    async with (
        served(model, written=written, allow_writes=True) as service,
        Client(build_mcp_server(service), mode="legacy", elicitation_callback=decline) as client,
    ):
        await client.call_tool("ask", {"question": "Add a task"})
    assert written == []


async def test_a_write_runs_without_asking_when_the_config_allows_writes() -> None:
    written: list[str] = []
    model = ScriptedModel([ADD, "Added."])
    async with (
        served(model, written=written, allow_writes=True) as service,
        Client(build_mcp_server(service)) as client,
    ):
        await client.call_tool("ask", {"question": "Add a task"})
    assert written == ["Buy fuses"]


async def test_read_only_tools_run_without_approval() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "ok"])
    async with served(model) as service, Client(build_mcp_server(service)) as client:
        result = await client.call_tool("ask", {"question": "q"})
    assert result.structured_content is not None
    assert not result.structured_content["steps"][0]["tool_calls"][0]["is_error"]


async def test_reexported_tools_keep_their_names_schemas_and_annotations_and_are_forwarded() -> None:
    async with served(ScriptedModel(), reexport_tools=True) as service:
        specs = {s.name: s for s in await service.runtime.toolbox.list_tools()}
        async with Client(build_mcp_server(service)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            result = await client.call_tool("board__list_tasks", {})
    assert set(tools) == {"ask", *specs}
    listed = tools["board__add_task"]
    assert listed.input_schema == specs["board__add_task"].parameters
    assert listed.annotations is not None and listed.annotations.read_only_hint is False
    assert tools["board__list_tasks"].annotations is not None
    assert tools["board__list_tasks"].annotations.read_only_hint is True
    assert "Renew TLS certificate" in result.content[0].text  # type: ignore[union-attr]


async def test_tools_are_not_reexported_unless_configured() -> None:
    async with served(ScriptedModel()) as service, Client(build_mcp_server(service)) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
    assert tools == ["ask"]


async def test_ask_says_the_server_is_busy_when_the_queue_is_full() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with served(model, concurrency=1, queue_size=1) as service:
        server = build_mcp_server(service)
        async with Client(server) as c1, Client(server) as c2, Client(server) as c3:
            results: dict[str, Any] = {}

            async def ask(name: str, client: Client) -> None:
                results[name] = await client.call_tool("ask", {"question": name})

            async with anyio.create_task_group() as tg:
                tg.start_soon(ask, "first", c1)
                await eventually(lambda: model.started == 1)
                tg.start_soon(ask, "second", c2)
                await eventually(lambda: service.queue.waiting == 1)
                busy = await c3.call_tool("ask", {"question": "third"})
                model.gate.set()
    assert busy.is_error and "busy" in busy.content[0].text  # type: ignore[union-attr]
    assert results["first"].structured_content["answer"] == "answer to first"
    assert results["second"].structured_content["answer"] == "answer to second"


async def test_the_server_names_its_version_and_ask_has_a_clean_description() -> None:
    from agent.serve.mcp_server import server_version

    async with served(ScriptedModel()) as service, Client(build_mcp_server(service), mode="legacy") as client:
        info = client.server_info
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert info is not None and info.version == server_version() and info.version
    description = tools["ask"].description or ""
    assert description.startswith("Ask the homelab agent a question")
    assert all(line == line.lstrip() for line in description.splitlines())
