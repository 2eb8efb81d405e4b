"""Row 4 and 5 of issue 12: bodies and conversations bounded in bytes before parsing, deep JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agent.models.scripted import ScriptedModel
from tests.serve.conftest import TOKEN, client, echo, running, served

CHAT = "/v1/chat/completions"
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def chat(messages: list[dict[str, str]]) -> dict[str, object]:
    return {"model": "homelab-agent", "messages": messages}


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read() -> None:
    model = ScriptedModel(function=echo)
    big = "x" * (2 * 1024 * 1024)
    async with served(model) as service, running(service) as base, client(base) as http:
        response = await http.post(CHAT, json=chat([{"role": "user", "content": big}]))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert "serve.max_body_bytes" in response.json()["error"]["message"]
    assert model.requests == []


async def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit_with_413() -> None:
    model = ScriptedModel(function=echo)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}]}'

    async with (
        served(model, max_body_bytes=1024 * 1024) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(CHAT, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert model.requests == []


async def test_two_hundred_thousand_messages_are_refused_not_forwarded_to_the_model() -> None:
    model = ScriptedModel(function=echo)
    messages = [{"role": "user", "content": ""}] * 200_000 + [{"role": "user", "content": "q"}]
    async with served(model) as service, running(service) as base, client(base) as http:
        response = await http.post(CHAT, json=chat(messages))
    assert response.status_code == 413
    assert model.requests == []


async def test_a_conversation_over_the_history_limit_is_refused_with_413() -> None:
    model = ScriptedModel(function=echo)
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": "z" * 1000} for i in range(100)]
    async with (
        served(model, max_history_bytes=64 * 1024) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(CHAT, json=chat([*turns, {"role": "user", "content": "and now?"}]))
    assert response.status_code == 413
    assert "serve.max_history_bytes" in response.json()["error"]["message"]
    assert model.requests == []


async def test_json_nested_a_hundred_thousand_deep_is_a_clear_400_not_a_500() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"messages": [{"role": "user", "content": "q"}], "extra": ' + deep + "}"
    async with (
        served(ScriptedModel(function=echo)) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(CHAT, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]


async def test_deeply_nested_json_to_mcp_is_refused_without_a_server_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ' + deep + "}"
    async with (
        served(ScriptedModel(), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(
            "/mcp", content=body, headers={"Content-Type": "application/json", **MCP_HEADERS}
        )
    assert 400 <= response.status_code < 500
