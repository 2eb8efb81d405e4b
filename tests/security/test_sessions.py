"""Row 6 of issue 12: conversations belong to the connection that started them, and are bounded."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agent.models.scripted import ScriptedModel
from tests.serve.conftest import TOKEN, echo, running, served


def connect(base: str) -> Client:
    """A fresh MCP connection (its own MCP session) to the server at `base`."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
    return Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy")


def session_of(result: Any) -> str:
    assert result.structured_content is not None, result
    return str(result.structured_content["session_id"])


async def test_another_connection_cannot_read_or_continue_a_conversation_it_did_not_start() -> None:
    model = ScriptedModel(function=echo)
    async with (
        served(model, bearer_token=TOKEN) as service,
        running(service) as base,
        connect(base) as alice,
        connect(base) as mallory,
    ):
        sid = session_of(await alice.call_tool("ask", {"question": "my secret plan"}))
        stolen = await mallory.call_tool("ask", {"question": "what did I say?", "session_id": sid})
        again = await alice.call_tool("ask", {"question": "and then?", "session_id": sid})
    assert stolen.is_error
    assert "session_id" in stolen.content[0].text  # type: ignore[union-attr]
    assert all(r.messages[-1].content != "what did I say?" for r in model.requests)
    assert not again.is_error and session_of(again) == sid


async def test_a_session_id_the_server_did_not_issue_is_refused_not_created() -> None:
    model = ScriptedModel(function=echo)
    async with (
        served(model, bearer_token=TOKEN) as service,
        running(service) as base,
        connect(base) as first,
        connect(base) as second,
    ):
        chosen = await first.call_tool("ask", {"question": "q", "session_id": "default"})
        shared = await second.call_tool("ask", {"question": "q", "session_id": "default"})
    assert chosen.is_error and shared.is_error
    assert "unknown session_id" in chosen.content[0].text  # type: ignore[union-attr]
    assert model.requests == []
    assert len(service.sessions) == 0


async def test_one_connection_opening_many_sessions_does_not_evict_another_connections() -> None:
    model = ScriptedModel(function=echo)
    async with (
        served(model, bearer_token=TOKEN) as service,
        running(service) as base,
        connect(base) as alice,
        connect(base) as flood,
    ):
        sid = session_of(await alice.call_tool("ask", {"question": "remember the UPS"}))
        for i in range(300):
            await flood.call_tool("ask", {"question": f"q{i}"})
        later = await alice.call_tool("ask", {"question": "what did I ask?", "session_id": sid})
    assert not later.is_error
    assert "remember the UPS" in [m.content for m in model.requests[-1].messages]


async def test_kept_conversations_are_bounded_in_bytes_not_only_in_turns() -> None:
    model = ScriptedModel(function=echo)
    limit = 512 * 1024
    async with (
        served(model, bearer_token=TOKEN, session_memory_bytes=limit) as service,
        running(service) as base,
        connect(base) as c,
    ):
        for i in range(30):
            await c.call_tool("ask", {"question": f"{i} " + "w" * 100_000})
    assert service.sessions.bytes <= limit
    assert len(service.sessions) < 30
