"""Two `serve` processes on one store: conversations and pending approvals go from one to the other.

The replicas here are two services on one SQLite file, each on its own loopback uvicorn, and the
load balancer an httpx transport that sends each request to the next replica in turn (the
benchmark `benchmarks/serve_replicas.py` does the same with Redis and a real nginx).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from agent.serve.service import Service
from tests.serve.conftest import TOKEN, running, served


class RoundRobin(httpx.AsyncBaseTransport):
    """A load balancer in a transport: each request goes to the next of `bases`."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = [httpx.URL(b) for b in bases]
        self.sent: list[int] = []
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        base = self.bases[len(self.sent) % len(self.bases)]
        self.sent.append(len(self.sent) % len(self.bases))
        request.url = request.url.copy_with(host=base.host, port=base.port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def board(messages: list[Message], tools: list[ToolSpec]) -> Turn:
    last = latest(messages)
    if last.role == "tool":
        return f"Done: {last.content}"
    if "oil the fan" in last.content.lower():
        return ToolCall(name="board__add_task", arguments={"title": "Oil the fan"})
    asked = [m.content for m in messages if m.role == "user" and not m.is_reminder]
    return " | ".join(asked)  # every question of the conversation so far


@asynccontextmanager
async def replicas(store: Path, written: list[str]) -> AsyncIterator[tuple[list[Service], list[str]]]:
    async with (
        served(ScriptedModel(function=board), written=written, store=str(store), bearer_token=TOKEN) as one,
        served(ScriptedModel(function=board), written=written, store=str(store), bearer_token=TOKEN) as two,
        running(one) as first,
        running(two) as second,
    ):
        yield [one, two], [first, second]
    await one.aclose()
    await two.aclose()


def balanced(bases: list[str], **kwargs: Any) -> Client:
    http = httpx.AsyncClient(
        transport=RoundRobin(bases), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    return Client(streamable_http_client(f"{bases[0]}/mcp", http_client=http), **kwargs)


async def test_a_conversation_started_on_one_replica_continues_on_the_other(tmp_path: Path) -> None:
    async with replicas(tmp_path / "s.sqlite3", []) as (_, bases), balanced(bases) as mcp:
        first = await mcp.call_tool("ask", {"question": "What is open?"})
        assert first.structured_content is not None
        sid = first.structured_content["session_id"]
        second = await mcp.call_tool("ask", {"question": "And after that?", "session_id": sid})
    assert second.structured_content is not None
    assert second.structured_content["answer"] == "What is open? | And after that?"


async def test_an_approval_asked_on_one_replica_is_answered_on_the_other(tmp_path: Path) -> None:
    written: list[str] = []
    asked: list[str] = []

    async def accept(context: object, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    async with (
        replicas(tmp_path / "s.sqlite3", written) as (services, bases),
        balanced(bases, elicitation_callback=accept) as mcp,
    ):
        result = await mcp.call_tool("ask", {"question": "Add a task to oil the fan"})
        assert all(s.queue.active == 0 for s in services)
    outcomes = [{o: s.metrics.runs.labels(o)._value.get() for o in ("paused", "ok")} for s in services]
    assert sorted(outcomes, key=lambda o: o["paused"]) == [{"paused": 0, "ok": 1}, {"paused": 1, "ok": 0}]
    assert len(asked) == 1 and written == ["Oil the fan"]
    assert result.structured_content is not None
    assert result.structured_content["answer"] == "Done: added 'Oil the fan'"


async def test_a_conversation_outlives_a_restart_of_serve(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite3"
    async with (
        served(ScriptedModel(function=board), store=str(store)) as before,
        running(before) as base,
        Client(f"{base}/mcp") as mcp,
    ):
        first = await mcp.call_tool("ask", {"question": "What is open?"})
    await before.aclose()
    assert first.structured_content is not None
    sid = first.structured_content["session_id"]
    async with (
        served(ScriptedModel(function=board), store=str(store)) as after,
        running(after) as base,
        Client(f"{base}/mcp") as mcp,
    ):
        second = await mcp.call_tool("ask", {"question": "And then?", "session_id": sid})
    await after.aclose()
    assert second.structured_content is not None
    assert second.structured_content["answer"] == "What is open? | And then?"


async def test_with_stateless_mcp_a_handshake_era_client_goes_to_either_replica(
    tmp_path: Path,
) -> None:
    store = str(tmp_path / "s.sqlite3")
    model = ScriptedModel(function=board)
    async with (
        served(model, store=store, bearer_token=TOKEN, stateless_mcp=True) as one,
        served(model, store=store, bearer_token=TOKEN, stateless_mcp=True) as two,
        running(one) as first,
        running(two) as second,
        balanced([first, second], mode="legacy") as mcp,
    ):
        a = await mcp.call_tool("ask", {"question": "What is open?"})
        assert a.structured_content is not None
        sid = a.structured_content["session_id"]
        b = await mcp.call_tool("ask", {"question": "And then?", "session_id": sid})
    assert b.structured_content is not None
    assert b.structured_content["answer"] == "What is open? | And then?"
