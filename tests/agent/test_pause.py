"""A run whose toolset defers a call ends paused, as plain data, and resumes from that data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.config import AgentSettings
from agent.exceptions import CallDeferred
from agent.loop import Agent, Session
from agent.messages import ToolCall, ToolResult, ToolSpec
from agent.models.scripted import ScriptedModel
from agent.trace import PausedRun

READ = ToolCall(name="read", arguments={"what": "tasks"})
WRITE = ToolCall(name="write", arguments={"title": "Oil the fan"})


@dataclass
class Deferring:
    """A toolset whose `write` waits for a decision until `allowed` says yes."""

    allowed: bool = False
    ran: list[str] = field(default_factory=list)
    name: str = "fake"

    async def list_tools(self) -> list[ToolSpec]:
        params = {"type": "object", "properties": {"what": {"type": "string"}, "title": {"type": "string"}}}
        return [
            ToolSpec(name="read", parameters=params, read_only=True),
            ToolSpec(name="write", parameters=params),
        ]

    async def instructions(self) -> str:
        return ""

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name == "write" and not self.allowed:
            raise CallDeferred(name)
        self.ran.append(name)
        return ToolResult(text=f"{name} ok")

    async def aclose(self) -> None:
        pass


def agent(model: ScriptedModel, tools: Deferring) -> Agent:
    return Agent(model, tools, AgentSettings(max_steps=4, first_step="auto"), system_prompt="You help.")


async def test_a_deferred_call_ends_the_run_paused_after_the_other_calls_of_its_step_ran() -> None:
    tools = Deferring()
    result = await agent(ScriptedModel([[READ, WRITE]]), tools).run("Add it")
    assert result.answer == "" and result.paused is not None
    assert [c.name for c in result.paused.pending] == ["write"]
    assert tools.ran == ["read"]
    assert [r.name for r in result.paused.done] == ["read"]


async def test_the_paused_run_survives_json_and_resumes_with_the_call_decided() -> None:
    tools = Deferring()
    model = ScriptedModel([[READ, WRITE], "Added."])
    paused = (await agent(model, tools).run("Add it")).paused
    assert paused is not None
    stored = PausedRun.model_validate_json(paused.model_dump_json())  # kept anywhere in between
    tools.allowed = True
    result = await agent(model, tools).run(stored.question, resume=stored)
    assert result.answer == "Added." and result.paused is None
    assert tools.ran == ["read", "write"]
    assert [c.name for c in result.steps[0].tool_calls] == ["read", "write"]  # in the model's order
    seen = [m for m in model.requests[-1].messages if not m.is_reminder]
    assert [m.role for m in seen[-3:]] == ["assistant", "tool", "tool"]
    assert seen[-1].content == "write ok"


async def test_a_resumed_run_whose_call_still_waits_pauses_again_without_asking_the_model() -> None:
    tools = Deferring()
    model = ScriptedModel([WRITE])
    paused = (await agent(model, tools).run("Add it")).paused
    assert paused is not None
    again = await agent(model, tools).run(paused.question, resume=paused)
    assert again.paused is not None and [c.name for c in again.paused.pending] == ["write"]
    assert len(model.requests) == 1


async def test_a_session_keeps_the_turn_only_once_the_resumed_run_answers() -> None:
    tools = Deferring()
    model = ScriptedModel([WRITE, "Added."])
    session = Session(agent(model, tools))
    result = await session.ask("Add it")
    assert result.paused is not None and session.turns == []
    tools.allowed = True
    await session.resume(result.paused)
    assert [m.role for m in session.turns[0]] == ["user", "assistant", "tool", "assistant"]
    assert session.turns[0][0].content == "Add it"
