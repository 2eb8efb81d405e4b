"""The requests Open WebUI 0.12.4 sends (tests/serve/data/openwebui/), against a real loopback server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from structlog.testing import capture_logs

from agent.config import RouterSettings
from agent.exceptions import ModelError
from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel
from agent.router import Router
from tests.serve.conftest import GatedModel, client, echo, eventually, running, served

CHAT = "/v1/chat/completions"
DATA = Path(__file__).parent / "data" / "openwebui"


def recorded(name: str) -> dict[str, Any]:
    """One request body Open WebUI sent (see data/openwebui/README.md)."""
    body: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return body


async def streamed(http: httpx.AsyncClient, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The status and the decoded `data:` events of a streamed chat completion (without [DONE])."""
    async with http.stream("POST", CHAT, json=body) as response:
        lines = [line[6:] async for line in response.aiter_lines() if line.startswith("data: ")]
    return response.status_code, [json.loads(line) for line in lines if line != "[DONE]"]


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["choices"][0]["delta"].get("content", "") for e in events if e.get("choices"))


async def test_open_webuis_chat_with_its_native_tools_is_answered_by_the_agents_own_tools() -> None:
    body = recorded("chat-native-tools")
    assert len(body["tools"]) == 36  # Open WebUI attaches its built-in tools to every chat
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Replace UPS battery is overdue."])
    async with served(model) as service, running(service) as base, client(base) as http:
        with capture_logs() as logs:
            status, events = await streamed(http, body)
    assert status == 200
    assert text_of(events) == "Replace UPS battery is overdue."
    offered = {t.name for request in model.requests for t in request.tools}
    assert offered == {"board__list_tasks", "board__add_task"}  # none of the client's tools
    ignored = [e for e in logs if e["event"] == "openai.client_tools_ignored"]
    assert ignored == [
        {
            "event": "openai.client_tools_ignored",
            "count": len(body["tools"]),
            "tool_choice": None,
            "model": "homelab-agent",
            "log_level": "info",
        }
    ]


async def test_a_client_tool_choice_is_left_out_with_the_tools() -> None:
    body = {**recorded("chat-native-tools"), "stream": False, "tool_choice": "required"}
    model = ScriptedModel(["Nothing is overdue."])
    async with served(model) as service, running(service) as base, client(base) as http:
        with capture_logs() as logs:
            response = await http.post(CHAT, json=body)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Nothing is overdue."
    assert [e["tool_choice"] for e in logs if e["event"] == "openai.client_tools_ignored"] == ["required"]


async def test_errors_sent_to_a_chat_client_are_logged_with_status_and_code() -> None:
    def fail(messages: list[Message], tools: list[ToolSpec]) -> str:
        raise ModelError("the model crashed")

    question = {"model": "homelab-agent", "messages": [{"role": "user", "content": "q"}]}
    async with (
        served(ScriptedModel(function=fail)) as service,
        running(service) as base,
        client(base) as http,
    ):
        with capture_logs() as logs:
            bad = await http.post(CHAT, json={**question, "n": 3})
            unknown = await http.post(CHAT, json={**question, "model": "gpt-9"})
            failed = await http.post(CHAT, json=question)
            status, events = await streamed(http, {**question, "stream": True})
    assert (bad.status_code, unknown.status_code, failed.status_code, status) == (400, 404, 500, 200)
    assert events[-1]["error"]["code"] == "ModelError"
    errors = [(e["status"], e["code"]) for e in logs if e["event"] == "openai.error"]
    assert errors == [
        (400, "unsupported_parameter"),
        (404, "model_not_found"),
        (500, "ModelError"),
        (200, "ModelError"),
    ]
    assert all("crashed" not in json.dumps(e) for e in logs if e["event"] == "openai.error")


async def test_a_refused_token_is_logged_without_the_token() -> None:
    wrong = "w" * 30
    async with (
        served(ScriptedModel(), bearer_token="t" * 30) as service,
        running(service) as base,
        client(base, token=wrong) as http,
    ):
        with capture_logs() as logs:
            response = await http.get("/v1/models")
    assert response.status_code == 401
    refused = [e for e in logs if e["event"] == "http.refused"]
    assert [(e["status"], e["code"], e["token"]) for e in refused] == [(401, "invalid_api_key", "wrong")]
    assert wrong not in json.dumps(logs)


@pytest.mark.parametrize("task", ["title", "tags", "follow-ups"])
async def test_open_webuis_housekeeping_sent_to_the_plain_model_is_one_turn_without_tools(task: str) -> None:
    body = {**recorded(task), "model": "homelab-agent-chat"}
    model = ScriptedModel(['{ "title": "Overdue Homelab Tasks" }'])
    async with served(model) as service, running(service) as base, client(base) as http:
        response = await http.post(CHAT, json=body)
        metrics = (await http.get("/metrics")).text
    assert response.status_code == 200
    assert response.json()["model"] == "homelab-agent-chat"
    assert response.json()["choices"][0]["message"]["content"] == '{ "title": "Overdue Homelab Tasks" }'
    [request] = model.requests  # one turn: no agent loop, no system prompt of the agent's
    assert request.tools == [] and request.tool_choice == "none"
    assert [(m.role, m.content) for m in request.messages] == [("user", body["messages"][0]["content"])]
    assert 'homelab_agent_chats_total{outcome="ok"} 1.0' in metrics
    assert "homelab_agent_runs_total" not in metrics.replace("# HELP homelab_agent_runs_total", "").replace(
        "# TYPE homelab_agent_runs_total", ""
    )


async def test_the_plain_model_streams_and_keeps_the_clients_system_prompt() -> None:
    body = {
        "model": "homelab-agent-chat",
        "stream": True,
        "messages": [
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": "Bonjour."},
            {"role": "user", "content": [{"type": "text", "text": "How are you?"}]},
        ],
        "tools": recorded("chat-native-tools")["tools"],
    }
    model = ScriptedModel(["Très bien, merci."], stream_chunk=4)
    async with served(model) as service, running(service) as base, client(base) as http:
        with capture_logs() as logs:
            status, events = await streamed(http, body)
    assert status == 200 and text_of(events) == "Très bien, merci."
    assert [(m.role, m.content) for m in model.requests[0].messages] == [
        ("system", "Answer in French."),
        ("user", "Hello?"),
        ("assistant", "Bonjour."),
        ("user", "How are you?"),
    ]
    assert model.requests[0].tools == []
    assert [e["count"] for e in logs if e["event"] == "openai.client_tools_ignored"] == [36]


async def test_models_list_the_agent_then_the_plain_model_then_the_configured_models() -> None:
    model = ScriptedModel(model_name="large")
    async with served(model) as service, running(service) as base, client(base) as http:
        listed = [m["id"] for m in (await http.get("/v1/models")).json()["data"]]
        one = await http.get("/v1/models/homelab-agent-chat")
    assert listed == ["homelab-agent", "homelab-agent-chat", "large"]
    assert one.json()["id"] == "homelab-agent-chat"


async def test_a_title_holds_the_slot_for_one_turn_and_the_question_is_answered_next() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    title = {**recorded("title"), "model": "homelab-agent-chat"}
    question = {**recorded("chat-native-tools"), "stream": False}
    async with (
        served(model, concurrency=1) as service,
        running(service) as base,
        client(base) as http,
    ):
        answers: dict[str, httpx.Response] = {}

        async def post(name: str, body: dict[str, Any]) -> None:
            answers[name] = await http.post(CHAT, json=body)

        async with anyio.create_task_group() as tg:
            tg.start_soon(post, "title", title)
            await eventually(lambda: model.started == 1)
            tg.start_soon(post, "question", question)
            await eventually(lambda: service.queue.waiting == 1)
            model.gate.set()
    assert answers["title"].json()["choices"][0]["message"]["content"].startswith("answer to ### Task:")
    assert answers["question"].json()["choices"][0]["message"]["content"] == (
        "answer to What is overdue in the Homelab project?"
    )
    assert [bool(r.tools) for r in model.inner.requests] == [False, True]  # the title: one turn, no tools


async def test_with_the_router_the_plain_model_is_the_small_one() -> None:
    small, large = ScriptedModel(["short"], model_name="small"), ScriptedModel(model_name="large")
    router = Router(small=small, large=large, settings=RouterSettings(mode="auto"))
    async with (
        served(router, models={"small": small, "large": large}) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(CHAT, json={**recorded("tags"), "model": "homelab-agent-chat"})
    assert response.json()["choices"][0]["message"]["content"] == "short"
    assert len(small.requests) == 1 and large.requests == []
