"""Write approval as a toolset wrapper, and the bounded session store."""

from __future__ import annotations

from typing import Any

import pytest

from agent.exceptions import ToolError
from agent.messages import ToolSpec
from agent.models.scripted import ScriptedModel
from agent.serve.approval import ApprovalToolset, Decision, needs_approval
from agent.serve.sessions import SessionStore, UnknownSessionError
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

    async def no(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
        asked.append((tool.name, arguments))
        return Decision(False, "the user declined")

    written: list[str] = []
    async with served(ScriptedModel(), written=written) as service:
        guarded = ApprovalToolset(service.runtime.toolbox, no)
        assert guarded.name == "board"
        listed = await guarded.list_tools()
        assert {t.name for t in listed} == {"board__list_tasks", "board__add_task"}
        with pytest.raises(ToolError, match="was not run: the user declined"):
            await guarded.call_tool("board__add_task", {"title": "x"})
        read = await guarded.call_tool("board__list_tasks", {})
    assert asked == [("board__add_task", {"title": "x"})]
    assert written == []
    assert "Replace UPS battery" in read.text


async def test_sessions_are_kept_by_id_and_the_least_recently_used_goes_first() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent, max_sessions=2)
        a = await store.open(None, "alice")
        b = await store.open(None, "bob")
        assert (await store.open(a.id, "alice")) is a
        await store.open(None, "carol")  # evicts b, the least recently used
        assert len(store) == 2
        assert (await store.open(a.id, "alice")) is a
        with pytest.raises(UnknownSessionError):
            await store.open(b.id, "bob")


async def test_a_session_is_only_found_by_its_owner_and_made_up_ids_are_refused() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent)
        a = await store.open(None, "alice")
        with pytest.raises(UnknownSessionError, match="unknown session_id"):
            await store.open(a.id, "mallory")
        with pytest.raises(UnknownSessionError):
            await store.open("default", "alice")
        assert len(store) == 1


async def test_a_caller_over_its_share_of_sessions_loses_its_own_oldest_not_anyone_elses() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent, per_owner=3)
        alice = await store.open(None, "alice")
        flood = [await store.open(None, "flood") for _ in range(10)]
        assert (await store.open(alice.id, "alice")) is alice
        assert len(store) == 4
        with pytest.raises(UnknownSessionError):
            await store.open(flood[0].id, "flood")


async def test_sessions_idle_past_their_ttl_are_forgotten() -> None:
    now = [0.0]
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent, ttl_s=10, clock=lambda: now[0])
        first = await store.open(None, "a")
        now[0] = 5
        assert (await store.open(first.id, "a")) is first
        now[0] = 16
        with pytest.raises(UnknownSessionError):
            await store.open(first.id, "a")


async def test_a_session_without_an_id_gets_a_fresh_one() -> None:
    async with served(ScriptedModel()) as service:
        store = SessionStore(service.runtime.agent)
        assert (await store.open(None, "a")).id != (await store.open("", "a")).id
