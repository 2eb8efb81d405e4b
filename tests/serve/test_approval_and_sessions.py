"""Write approval as a toolset wrapper, and the bounded session store."""

from __future__ import annotations

from typing import Any

import pytest

from agent.exceptions import ToolError
from agent.messages import ToolSpec
from agent.models.scripted import ScriptedModel
from agent.serve.approval import ApprovalToolset, needs_approval
from agent.serve.sessions import SessionStore
from tests.serve.conftest import served


@pytest.mark.parametrize(
    ("read_only", "destructive", "needed"),
    [(True, None, False), (True, False, False), (True, True, True), (None, None, True), (False, False, True)],
)
def test_only_read_only_non_destructive_tools_skip_approval(
    read_only: bool | None, destructive: bool | None, needed: bool
) -> None:
    assert needs_approval(ToolSpec(name="t", read_only=read_only, destructive=destructive)) is needed


async def test_the_approver_is_asked_with_the_tool_and_arguments_and_its_no_is_a_tool_error() -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def no(tool: ToolSpec, arguments: dict[str, Any]) -> bool:
        asked.append((tool.name, arguments))
        return False

    written: list[str] = []
    async with served(ScriptedModel(), written=written) as service:
        guarded = ApprovalToolset(service.runtime.toolbox, no)
        assert guarded.name == "board"
        listed = await guarded.list_tools()
        assert {t.name for t in listed} == {"board__list_tasks", "board__add_task"}
        with pytest.raises(ToolError, match="did not approve"):
            await guarded.call_tool("board__add_task", {"title": "x"})
        read = await guarded.call_tool("board__list_tasks", {})
    assert asked == [("board__add_task", {"title": "x"})]
    assert written == []
    assert "Replace UPS battery" in read.text


async def test_sessions_are_kept_by_id_and_the_least_recently_used_goes_first() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent, max_sessions=2)
        a = store.get("a")
        store.get("b")
        assert store.get("a") is a
        store.get("c")  # evicts b, the least recently used
        assert len(store) == 2
        assert store.get("a") is a
        assert store.get("b") is not None and len(store.get("b").session.turns) == 0


async def test_sessions_idle_past_their_ttl_are_forgotten() -> None:
    now = [0.0]
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent, ttl_s=10, clock=lambda: now[0])
        first = store.get("a")
        now[0] = 5
        assert store.get("a") is first
        now[0] = 16
        assert store.get("a") is not first


async def test_a_session_without_an_id_gets_a_fresh_one() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent)
        assert store.get(None).id != store.get("").id
