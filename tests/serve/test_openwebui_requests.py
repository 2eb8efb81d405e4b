"""The requests Open WebUI 0.12.4 sends (tests/serve/data/openwebui/), against a real loopback server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from structlog.testing import capture_logs

from agent.exceptions import ModelError
from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel
from tests.serve.conftest import client, running, served

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
    assert len(body["tools"]) >= 3  # the fixture carries Open WebUI's built-in tools
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
