"""The local llama.cpp model with the real Qwen2.5-Coder-0.5B: calls, answers, cache, lock, cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from agent.config import AgentSettings
from agent.exceptions import ContextOverflowError
from agent.loop import Agent
from agent.messages import Message, ToolCall, ToolResult, ToolSpec
from agent.models.base import Model
from agent.models.llama import LocalModel
from agent.models.settings import LlamaSettings
from agent.toolsets.base import Toolbox
from agent.validation import check_call
from tests.models.conftest import KANBOARD_TOOLS

pytestmark = pytest.mark.real_model

SYSTEM = Message.system(
    "You answer questions about the user's Kanboard. Use the tools to look things up; "
    "answer from the tool results only, in one short sentence."
)
QUESTION = Message.user("Which tasks are overdue in the Homelab project?")
CALL = ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="call_1")
RESULT = '[{"id": 12, "title": "Renew TLS certificate", "due": "2026-11-18", "assignee": "alice"}]'


@pytest.fixture(scope="session")
def qwen_free_model(qwen_path: Path) -> Iterator[LocalModel]:
    """The 0.5B without the grammar (a second instance; the weights are shared through mmap)."""
    settings = LlamaSettings(
        n_ctx=4096, temperature=0.0, n_gpu_layers=0, max_tokens=96, constrained=False, n_threads=1
    )
    model = LocalModel.load(qwen_path, settings, name="qwen-free")
    yield model
    anyio.run(model.aclose)


def test_local_model_implements_the_model_protocol(qwen_model: LocalModel) -> None:
    assert isinstance(qwen_model, Model)
    assert qwen_model.info.architecture == "qwen2"


async def test_kanboard_question_gives_a_schema_valid_call_in_constrained_mode(
    qwen_model: LocalModel,
) -> None:
    response = await qwen_model.respond([SYSTEM, QUESTION], KANBOARD_TOOLS)
    assert response.parse_error is None
    assert [c.name for c in response.tool_calls] == ["kanboard__overdue_tasks"]
    assert all(check_call(c, KANBOARD_TOOLS) is None for c in response.tool_calls)
    assert response.usage.input_tokens > 100 and response.usage.output_tokens > 5
    assert response.usage.prefill_s > 0 and response.usage.decode_s > 0


async def test_kanboard_question_gives_a_parsed_schema_valid_call_without_the_grammar(
    qwen_free_model: LocalModel,
) -> None:
    response = await qwen_free_model.respond([SYSTEM, QUESTION], KANBOARD_TOOLS)
    assert response.parse_error is None
    assert response.tool_calls and response.tool_calls[0].name == "kanboard__overdue_tasks"
    assert check_call(response.tool_calls[0], KANBOARD_TOOLS) is None


AFTER_RESULT = [
    SYSTEM,
    Message.user("What is the title of the overdue task in Homelab?"),
    Message.assistant("", [CALL]),
    Message.tool(CALL, RESULT),
]


async def test_asked_for_an_answer_without_tools_after_a_result_the_model_gives_a_fact_from_it(
    qwen_model: LocalModel,
) -> None:
    pieces: list[str] = []
    response = await qwen_model.respond(AFTER_RESULT, [], on_text=pieces.append, tool_choice="none")
    assert response.tool_calls == [] and response.parse_error is None
    assert "renew tls certificate" in response.text.lower()
    assert "".join(pieces).strip() == response.text


async def test_the_agent_on_the_real_model_runs_a_lookup_once_and_answers_from_it(
    qwen_model: LocalModel,
) -> None:
    @dataclass
    class Board:
        name: str = "kanboard"
        calls: list[str] = field(default_factory=list)

        async def list_tools(self) -> list[ToolSpec]:
            return [t.model_copy(update={"name": t.name.removeprefix("kanboard__")}) for t in KANBOARD_TOOLS]

        async def instructions(self) -> str:
            return ""

        async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
            self.calls.append(name)
            return ToolResult(text=RESULT)

        async def aclose(self) -> None:
            return None

    board = Board()
    agent = Agent(qwen_model, Toolbox([board]), AgentSettings(max_steps=4), system_prompt=SYSTEM.content)
    result = await agent.run("What is the title of the overdue task in Homelab?")
    assert "renew tls certificate" in result.answer.lower()
    assert board.calls == ["overdue_tasks"]  # a repeated call is not run again (Step.repeated)


async def test_tool_choice_none_gets_an_answer_with_the_tools_still_in_the_prompt(
    qwen_model: LocalModel,
) -> None:
    free = await qwen_model.respond([SYSTEM, QUESTION], KANBOARD_TOOLS)
    answer = await qwen_model.respond([SYSTEM, QUESTION], KANBOARD_TOOLS, tool_choice="none")
    assert free.tool_calls and not answer.tool_calls and answer.text.strip()
    assert answer.usage.cached_tokens >= free.usage.input_tokens - 8  # the same prompt, from the cache


async def test_a_tool_call_turn_streams_nothing(qwen_model: LocalModel) -> None:
    pieces: list[str] = []
    response = await qwen_model.respond([SYSTEM, QUESTION], KANBOARD_TOOLS, on_text=pieces.append)
    assert response.tool_calls and pieces == []


async def test_a_second_request_with_the_same_prefix_reuses_the_kv_cache(qwen_model: LocalModel) -> None:
    first = await qwen_model.respond([SYSTEM, Message.user("Find tasks about backups.")], KANBOARD_TOOLS)
    second = await qwen_model.respond([SYSTEM, Message.user("Find tasks about the NAS.")], KANBOARD_TOOLS)
    assert first.usage.input_tokens > 100
    assert second.usage.cached_tokens > 100  # system prompt + tools are not processed again
    assert second.usage.cached_tokens < second.usage.input_tokens


async def test_alternating_conversations_get_their_kv_state_back(qwen_model: LocalModel) -> None:
    long_a = Message.user(
        "Context A: " + "the rack holds a NAS, a router and two mini PCs. " * 12 + "What is overdue?"
    )
    long_b = Message.system("You are a different assistant. " + "Be terse. " * 40)
    await qwen_model.respond([SYSTEM, long_a], KANBOARD_TOOLS)
    await qwen_model.respond([long_b, Message.user("Hello")], [])
    back = await qwen_model.respond([SYSTEM, long_a], KANBOARD_TOOLS)
    assert back.usage.cached_tokens >= back.usage.input_tokens - 1


async def test_two_concurrent_requests_both_succeed(qwen_model: LocalModel) -> None:
    results = {}

    async def ask(key: str, text: str) -> None:
        results[key] = await qwen_model.respond([SYSTEM, Message.user(text)], KANBOARD_TOOLS)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask, "a", "Which tasks are overdue in the Homelab project?")
        tg.start_soon(ask, "b", "Find tasks about backups.")
    assert set(results) == {"a", "b"}
    assert all(r.tool_calls and r.parse_error is None for r in results.values())


async def test_cancelling_a_request_stops_generation_and_frees_the_model(qwen_path: Path) -> None:
    settings = LlamaSettings(n_ctx=2048, max_tokens=400, constrained=False, cache_ram_mb=0, n_threads=1)
    model = LocalModel.load(qwen_path, settings, name="qwen-cancel")
    try:
        story = [Message.user("Write a long story about a cat who runs a homelab.")]
        pieces: list[str] = []
        with anyio.move_on_after(1.5):
            await model.respond(story, [], on_text=pieces.append)
        started = time.perf_counter()
        settings_after = await model.respond([Message.user("Say OK.")], [])
        assert settings_after.text
        assert time.perf_counter() - started < 20  # did not wait for 400 tokens of story
    finally:
        await model.aclose()


async def test_a_prompt_longer_than_the_context_is_a_context_overflow_error(qwen_model: LocalModel) -> None:
    huge = Message.user("server log line with many words " * 1200)
    with pytest.raises(ContextOverflowError, match=r"the prompt is \d+ tokens .* n_ctx=4096; raise models"):
        await qwen_model.respond([SYSTEM, huge], KANBOARD_TOOLS)
