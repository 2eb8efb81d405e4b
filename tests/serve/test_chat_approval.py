"""Approval in the chat itself: the answer asks, the next message decides, the run resumes from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from agent.serve.chat_approval import describe, reply
from tests.serve.conftest import client, running, served

CHAT = "/v1/chat/completions"
QUESTION = "Add a task to oil the fan"


def board(messages: list[Message], tools: list[ToolSpec]) -> Turn:
    """Adds a task when asked to, says what a tool answered, and answers anything else."""
    last = latest(messages)
    if last.role == "tool":
        return f"Done: {last.content}"
    if "oil the fan" in last.content.lower():
        return ToolCall(name="board__add_task", arguments={"title": "Oil the fan"})
    return "answer to " + last.content


def chat(*turns: str, **extra: Any) -> dict[str, Any]:
    """A chat request whose turns alternate user, assistant, user, …"""
    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]
    return {"model": "homelab-agent", "messages": messages, **extra}


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("yes", True),
        ("Yes.", True),
        ("ok, do it", True),
        ("go ahead", True),
        ("yes please", True),
        ("no", False),
        ("No thanks", False),
        ("don't", False),
        ("cancel", False),
        ("yes, and what else is open?", None),
        ("what does it add?", None),
        ("", None),
    ],
)
def test_only_a_short_yes_or_no_is_taken_for_a_decision(text: str, verdict: bool | None) -> None:
    assert reply(text) is verdict


def test_a_call_is_described_in_words() -> None:
    call = ToolCall(name="board__add_task", arguments={"title": "Oil the fan", "project_id": 1, "due": ""})
    assert describe(call) == "`board__add_task` with title “Oil the fan”, project id 1"


async def test_the_answer_says_what_would_be_done_and_a_yes_resumes_the_run_and_writes_once() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        assert written == [] and service.queue.active == 0
        done = content(await http.post(CHAT, json=chat(QUESTION, asked, "yes")))
    assert "`board__add_task` with title “Oil the fan”" in asked and "**yes**" in asked and "apv-" in asked
    assert written == ["Oil the fan"]
    assert done == "Done: added 'Oil the fan'"


async def test_a_no_writes_nothing_and_the_model_is_told_why() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        done = content(await http.post(CHAT, json=chat(QUESTION, asked, "no")))
    assert written == []
    assert "the user answered no in the chat" in done


async def test_a_pending_approval_frees_the_slot_and_another_client_is_answered_while_it_waits() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written, concurrency=1, queue_size=1) as service,
        running(service) as base,
        client(base) as first,
        client(base) as second,
    ):
        asked = content(await first.post(CHAT, json=chat(QUESTION)))  # waits for its user now
        with anyio.fail_after(5):
            other = content(await second.post(CHAT, json=chat("What is open?")))
        done = content(await first.post(CHAT, json=chat(QUESTION, asked, "yes")))
    assert other == "answer to What is open?"
    assert written == ["Oil the fan"] and done.startswith("Done")


async def test_the_approval_question_streams_like_an_answer() -> None:
    async with (
        served(ScriptedModel(function=board)) as service,
        running(service) as base,
        client(base) as http,
        http.stream("POST", CHAT, json=chat(QUESTION, stream=True)) as response,
    ):
        lines = [line async for line in response.aiter_lines() if line.startswith("data: {")]
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content", "") for line in lines[:-1])
    assert "board__add_task" in text and "apv-" in text


async def test_a_reference_pasted_into_another_conversation_is_refused_and_stays_for_its_own() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        stolen = await http.post(CHAT, json=chat("Add a task to oil the fan, please", asked, "yes"))
        assert written == []
        own = await http.post(CHAT, json=chat(QUESTION, asked, "yes"))
    assert stolen.status_code == 409
    assert stolen.json()["error"]["code"] == "approval_not_pending"
    assert "not pending any more" in stolen.json()["error"]["message"]
    assert own.status_code == 200 and written == ["Oil the fan"]


async def test_a_reference_answered_by_another_user_or_token_is_refused() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base, token="alice-token") as alice,
        client(base, token="mallory-token") as mallory,
    ):
        asked = content(await alice.post(CHAT, json=chat(QUESTION, user="alice")))
        other_user = await alice.post(CHAT, json=chat(QUESTION, asked, "yes", user="mallory"))
        other_token = await mallory.post(CHAT, json=chat(QUESTION, asked, "yes", user="alice"))
        assert written == []
        own = await alice.post(CHAT, json=chat(QUESTION, asked, "yes", user="alice"))
    assert other_user.status_code == 409 and other_token.status_code == 409
    assert own.status_code == 200 and written == ["Oil the fan"]


async def test_a_reference_used_once_is_refused_the_second_time() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        first = await http.post(CHAT, json=chat(QUESTION, asked, "yes"))
        again = await http.post(CHAT, json=chat(QUESTION, asked, "yes"))
    assert first.status_code == 200 and again.status_code == 409
    assert written == ["Oil the fan"]


async def test_an_expired_reference_is_refused_and_nothing_is_written() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written, approval_timeout_s=0.2) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        await anyio.sleep(0.3)
        late = await http.post(CHAT, json=chat(QUESTION, asked, "yes"))
    assert late.status_code == 409 and written == []


async def test_a_next_message_that_is_no_decision_is_answered_as_a_new_question() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written) as service,
        running(service) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
        other = content(await http.post(CHAT, json=chat(QUESTION, asked, "what else is open?")))
    assert other == "answer to what else is open?" and written == []


async def test_writes_allowed_by_config_run_in_the_chat_without_asking() -> None:
    written: list[str] = []
    async with (
        served(ScriptedModel(function=board), written=written, allow_writes=True) as service,
        running(service) as base,
        client(base) as http,
    ):
        done = content(await http.post(CHAT, json=chat(QUESTION)))
    assert written == ["Oil the fan"] and done.startswith("Done")


async def test_a_restart_between_the_question_and_the_yes_still_writes_once(tmp_path: Path) -> None:
    written: list[str] = []
    store = str(tmp_path / "serve.sqlite3")
    async with (
        served(ScriptedModel(function=board), written=written, store=store) as before,
        running(before) as base,
        client(base) as http,
    ):
        asked = content(await http.post(CHAT, json=chat(QUESTION)))
    await before.aclose()
    async with (
        served(ScriptedModel(function=board), written=written, store=store) as after,
        running(after) as base,
        client(base) as http,
    ):
        done = content(await http.post(CHAT, json=chat(QUESTION, asked, "yes")))
        again = await http.post(CHAT, json=chat(QUESTION, asked, "yes"))
    await after.aclose()
    assert written == ["Oil the fan"] and done.startswith("Done")
    assert again.status_code == 409
