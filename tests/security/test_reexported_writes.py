"""Row 1 of issue 12: a re-exported tool is approved, queued and logged like the agent's own calls."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from agent.models.scripted import ScriptedModel
from homelab_common.logs import configure_logging
from tests.serve.conftest import GatedModel, echo, eventually, running, served

ADD = ("board__add_task", {"title": "Close the garage"})


def text(result: Any) -> str:
    return "".join(b.text for b in result.content if isinstance(b, types.TextContent))


async def test_a_reexported_write_is_refused_when_writes_are_off_and_the_client_cannot_be_asked() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(), written=written, reexport_tools=True) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode="legacy") as mcp,
    ):
        result = await mcp.call_tool(*ADD)
    assert result.is_error
    assert written == []
    assert "allow_writes" in text(result) and "cannot ask" in text(result)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_reexported_write_runs_only_after_the_user_approves_it(mode: str) -> None:
    written: list[str] = []
    asked: list[str] = []

    async def approve(context: object, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    async with (
        served(ScriptedModel(), written=written, reexport_tools=True) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode=mode, elicitation_callback=approve) as mcp,  # type: ignore[arg-type]
    ):
        result = await mcp.call_tool(*ADD)
    assert not result.is_error, text(result)
    assert written == ["Close the garage"]
    assert len(asked) == 1 and "board__add_task" in asked[0]


async def test_a_reexported_write_the_user_declines_does_not_run_and_says_so() -> None:
    written: list[str] = []

    async def decline(context: object, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with (
        served(ScriptedModel(), written=written, reexport_tools=True, allow_writes=True) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode="legacy", elicitation_callback=decline) as mcp,
    ):
        result = await mcp.call_tool(*ADD)
    assert result.is_error and written == []
    assert "declined" in text(result)


async def test_a_reexported_call_waits_for_a_queue_slot_and_is_refused_when_the_queue_is_full() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with (
        served(model, reexport_tools=True, concurrency=1, queue_size=1) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode="legacy") as first,
        Client(f"{base}/mcp", mode="legacy") as second,
        Client(f"{base}/mcp", mode="legacy") as third,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(first.call_tool, "ask", {"question": "busy"})
        await eventually(lambda: model.started == 1)
        tg.start_soon(second.call_tool, "ask", {"question": "waiting"})
        await eventually(lambda: service.queue.waiting == 1)
        busy = await third.call_tool("board__list_tasks", {})
        model.gate.set()
    assert busy.is_error and "busy" in text(busy)


async def test_a_reexported_call_is_logged_with_its_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    async with (
        served(ScriptedModel(), reexport_tools=True, allow_writes=True) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode="legacy") as mcp,
    ):
        await mcp.call_tool(*ADD)
    logged = capsys.readouterr().err
    assert '"event": "serve.tool_call"' in logged and '"tool": "board__add_task"' in logged
    assert '"approved": true' in logged
