"""Speculative decoding with prompt lookup gives the same output as one token at a time, at
temperature 0, with the real Qwen2.5-Coder-0.5B: answers that quote a tool result, tool calls
under the grammar, and free text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from agent.messages import Message, ToolCall
from agent.models.llama import LocalModel
from agent.models.settings import LlamaSettings
from tests.models.conftest import KANBOARD_TOOLS

pytestmark = pytest.mark.real_model

SYSTEM = Message.system(
    "You answer questions about the user's Kanboard. Use the tools to look things up; answer from "
    "the tool results only. When the answer is a list, give every item with its number and title."
)
QUESTION = Message.user("Which tasks are overdue in the Homelab project?")
CALL = ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="call_1")
RESULT = """Overdue tasks in Homelab, most overdue first (today is 2026-12-02):
- #6 VLAN segmentation for IoT devices (Homelab) - assigned to Dave Okafor - due 2026-11-27, 5 days late
- #12 Replace the ISP router with OPNsense (Homelab) - assigned to Dave Okafor - due 2026-11-28, 4 days late
- #13 Rotate WireGuard keys (Homelab) - assigned to Site Admin - due 2026-11-29, 3 days late
- #1 Replace failing disk in ZFS pool 'tank' (Homelab) - assigned to Alice Chen - due 2026-11-30, 2 days late
(4 overdue tasks in Homelab)"""
AFTER_RESULT = [SYSTEM, QUESTION, Message.assistant("", [CALL]), Message.tool(CALL, RESULT)]


def _load(path: Path, **update: object) -> LocalModel:
    settings = LlamaSettings(n_ctx=4096, temperature=0.0, n_gpu_layers=0, max_tokens=160, n_threads=1)
    return LocalModel.load(path, settings.model_copy(update=update), name=f"qwen-{update}")


@pytest.fixture(scope="module")
def one_by_one(qwen_path: Path) -> Iterator[LocalModel]:
    model = _load(qwen_path, speculative="off")
    yield model
    anyio.run(model.aclose)


@pytest.fixture(scope="module")
def speculative(qwen_path: Path) -> Iterator[LocalModel]:
    model = _load(qwen_path, speculative="prompt_lookup")
    yield model
    anyio.run(model.aclose)


async def test_an_answer_quoting_a_tool_result_is_the_same_with_and_without_speculation(
    one_by_one: LocalModel, speculative: LocalModel
) -> None:
    plain = await one_by_one.respond(AFTER_RESULT, KANBOARD_TOOLS, tool_choice="none")
    fast = await speculative.respond(AFTER_RESULT, KANBOARD_TOOLS, tool_choice="none")
    assert fast.raw == plain.raw
    assert fast.usage.output_tokens == plain.usage.output_tokens
    assert plain.usage.drafted_tokens == 0
    assert fast.usage.accepted_tokens > 0, "the answer quotes the result: some guesses should come true"


async def test_a_tool_call_under_the_grammar_is_the_same_with_and_without_speculation(
    one_by_one: LocalModel, speculative: LocalModel
) -> None:
    plain = await one_by_one.respond([SYSTEM, QUESTION], KANBOARD_TOOLS, tool_choice="required")
    fast = await speculative.respond([SYSTEM, QUESTION], KANBOARD_TOOLS, tool_choice="required")
    assert fast.raw == plain.raw
    assert [(c.name, c.arguments) for c in fast.tool_calls] == [
        (c.name, c.arguments) for c in plain.tool_calls
    ]
    assert plain.tool_calls


async def test_free_text_is_the_same_with_and_without_speculation(qwen_path: Path) -> None:
    free_plain = _load(qwen_path, speculative="off", constrained=False, max_tokens=96)
    free_fast = _load(
        qwen_path, speculative="prompt_lookup", constrained=False, max_tokens=96, draft_tokens=4
    )
    try:
        asked = [SYSTEM, Message.user("Repeat this list exactly, then say which is late: " + RESULT)]
        plain = await free_plain.respond(asked, [])
        fast = await free_fast.respond(asked, [])
    finally:
        await free_plain.aclose()
        await free_fast.aclose()
    assert fast.raw == plain.raw
    assert fast.usage.drafted_tokens > 0


async def test_a_streamed_answer_arrives_whole_and_in_order_with_speculation(speculative: LocalModel) -> None:
    pieces: list[str] = []
    response = await speculative.respond(
        AFTER_RESULT, KANBOARD_TOOLS, tool_choice="none", on_text=pieces.append
    )
    assert "".join(pieces).strip() == response.text  # the stream may end with the newline the text drops


async def test_the_budget_holds_with_speculation(qwen_path: Path) -> None:
    short = _load(qwen_path, speculative="prompt_lookup", max_tokens=7, draft_tokens=16)
    try:
        response = await short.respond(AFTER_RESULT, KANBOARD_TOOLS, tool_choice="none")
    finally:
        await short.aclose()
    assert response.usage.output_tokens == 7
