"""A chat client streaming an answer sees a tool's list arrive as soon as it is there: the model's
lead first, then the list as the tool gave it; or, when the list answers as asked, the list alone,
with no model turn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from agent.app import Runtime
from agent.config import AgentSettings, ServeSettings
from agent.loop import Agent
from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from agent.serve.service import Service
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from tests.serve.conftest import client, running
from tests.support.notes_server import build_server

NOTES = (
    "- backup: Nightly ZFS snapshots at 02:00, kept 14 days.\n"
    "- router: OPNsense on the N100 box, firmware 24.7.\n(2 notes)"
)


@asynccontextmanager
async def notes_service(model: ScriptedModel) -> AsyncIterator[Service]:
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset("notes", tg, server=build_server(), timeout_s=10)])
        agent = Agent(model, toolbox, AgentSettings(max_steps=4), system_prompt="You help.")
        try:
            yield Service(Runtime(agent, toolbox, {model.name: model}), ServeSettings())
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()


async def _stream(model: ScriptedModel, question: str) -> list[str]:
    body: dict[str, Any] = {
        "model": "homelab-agent",
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }
    async with (
        notes_service(model) as service,
        running(service) as base,
        client(base, token=None) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        lines = [line async for line in response.aiter_lines() if line.startswith("data: {")]
    deltas = [json.loads(line[6:])["choices"] for line in lines]
    return [c[0]["delta"]["content"] for c in deltas if c and c[0]["delta"].get("content")]


async def test_the_stream_carries_the_models_lead_then_the_tools_list_as_given() -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__list_notes", arguments={}), "Here are the notes:\n- backup: retyped"],
        stream_chunk=4,
    )
    pieces = await _stream(model, "What do my notes say?")
    assert "".join(pieces) == "Here are the notes:\n" + NOTES
    assert pieces[-1] == ":\n" + NOTES  # the list arrives whole, right after the lead
    assert len(pieces) > 2  # the lead itself streamed as it was written


async def test_a_list_that_answers_as_asked_streams_at_once_without_a_model_turn() -> None:
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={})])
    pieces = await _stream(model, "Which notes are there?")
    assert "".join(pieces) == "Notes:\n" + NOTES and len(model.requests) == 1
