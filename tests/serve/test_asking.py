"""Write approval reaches clients on every protocol version, through real clients on loopback.

On the 2026-07-28 protocol a tool call has no back-channel: the server answers
`InputRequiredResult` with the question, and the client retries with the answer. The SDK's and
fastmcp's `Client` do that by default; older clients are asked mid-call.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from fastmcp import Client as FastMCPClient
from mcp import Client

from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from agent.serve.mcp_server import build_mcp_server
from tests.serve.conftest import running, served

ADD = ToolCall(name="board__add_task", arguments={"title": "Oil the fan"})


def first_call(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result
    call: dict[str, Any] = result.structured_content["steps"][0]["tool_calls"][0]
    return call


@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_the_sdk_client_on_the_newest_protocol_is_asked_and_its_answer_decides(answer: str) -> None:
    written: list[str] = []
    asked: list[str] = []

    async def reply(context: object, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        content = {"approve": True} if answer == "accept" else None
        return types.ElicitResult(action=answer, content=content)  # type: ignore[arg-type]

    model = ScriptedModel([ADD, "Done."])
    async with (
        served(model, written=written) as service,
        running(service) as base,
        Client(f"{base}/mcp", elicitation_callback=reply) as mcp,  # mode "auto": 2026-07-28 here
    ):
        assert mcp.session.protocol_version == "2026-07-28"
        result = await mcp.call_tool("ask", {"question": "Add a task to oil the fan"})
    assert len(asked) == 1 and "board__add_task" in asked[0] and "Oil the fan" in asked[0]
    if answer == "accept":
        assert written == ["Oil the fan"] and not first_call(result)["is_error"]
    else:
        assert written == [] and "the user declined" in first_call(result)["result"]
    assert result.structured_content is not None and result.structured_content["answer"] == "Done."
    assert service.queue.active == 0


async def test_fastmcps_client_in_its_default_mode_is_asked_before_a_write() -> None:
    written: list[str] = []
    asked: list[str] = []

    async def handler(message: str, response_type: Any, params: Any, context: Any) -> dict[str, bool]:
        asked.append(message)
        return {"approve": True}

    model = ScriptedModel([ADD, "Added."])
    async with (
        served(model, written=written) as service,
        running(service) as base,
        FastMCPClient(f"{base}/mcp", elicitation_handler=handler) as client,
    ):
        result = await client.call_tool("ask", {"question": "Add a task to oil the fan"})
    assert len(asked) == 1 and "board__add_task" in asked[0]
    assert written == ["Oil the fan"]
    assert result.structured_content is not None and result.structured_content["answer"] == "Added."


async def test_an_in_process_client_on_the_newest_protocol_is_asked_too() -> None:
    written: list[str] = []

    async def accept(context: object, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"approve": True})

    second = ToolCall(name="board__add_task", arguments={"title": "Dust the rack"})
    model = ScriptedModel([ADD, second, "Added both."])
    async with (
        served(model, written=written) as service,
        Client(build_mcp_server(service), elicitation_callback=accept) as mcp,
    ):
        result = await mcp.call_tool("ask", {"question": "Add both tasks"})
    assert written == ["Oil the fan", "Dust the rack"]  # two questions, two rounds
    assert result.structured_content is not None and result.structured_content["answer"] == "Added both."


async def test_a_newest_protocol_client_without_elicitation_is_told_why_the_write_was_refused() -> None:
    written: list[str] = []
    model = ScriptedModel([ADD, "Not added."])
    async with (
        served(model, written=written) as service,
        running(service) as base,
        Client(f"{base}/mcp") as mcp,
    ):
        result = await mcp.call_tool("ask", {"question": "Add a task"})
    reason = first_call(result)["result"]
    assert written == []
    assert "cannot ask its user" in reason and "serve.allow_writes = false" in reason


async def test_a_waiting_approval_holds_no_place_and_an_answer_after_it_expired_is_refused() -> None:
    written: list[str] = []
    release = anyio.Event()
    asked = anyio.Event()

    async def slow(context: object, params: Any) -> types.ElicitResult:
        asked.set()
        await release.wait()
        return types.ElicitResult(action="accept", content={"approve": True})

    model = ScriptedModel([ADD, "Added."])
    async with (
        served(model, written=written, approval_timeout_s=0.5) as service,
        running(service) as base,
        Client(f"{base}/mcp", elicitation_callback=slow) as mcp,
        anyio.create_task_group() as tg,
    ):
        outcome: list[Any] = []

        async def call() -> None:
            outcome.append(await mcp.call_tool("ask", {"question": "Add a task"}))

        tg.start_soon(call)
        await asked.wait()
        assert service.queue.active == 0  # the run ended when it asked
        await anyio.sleep(0.7)  # past serve.approval_timeout_s
        release.set()
    assert written == []
    assert outcome[0].is_error and "not pending any more" in outcome[0].content[0].text


async def test_fastmcps_client_reaches_a_token_protected_server_with_auth_as_documented() -> None:
    from tests.serve.conftest import TOKEN

    async with (
        served(ScriptedModel(["Two tasks."]), bearer_token=TOKEN) as service,
        running(service) as base,
        FastMCPClient(f"{base}/mcp", auth=TOKEN) as client,
    ):
        result = await client.call_tool("ask", {"question": "What is open?"})
    assert result.structured_content is not None and result.structured_content["answer"] == "Two tasks."
