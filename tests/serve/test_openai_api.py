"""The OpenAI-compatible API on a real loopback uvicorn: answers, streams, queueing, disconnects."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx

from agent.models.scripted import ScriptedModel
from tests.serve.conftest import GatedModel, client, echo, eventually, running, served

CHAT = "/v1/chat/completions"


def ask(question: str, **extra: Any) -> dict[str, Any]:
    return {"model": "homelab-agent", "messages": [{"role": "user", "content": question}], **extra}


async def post(http: httpx.AsyncClient, question: str) -> None:
    await http.post(CHAT, json=ask(question))


async def test_models_lists_the_agent_and_the_configured_models() -> None:
    model = ScriptedModel(model_name="small")
    async with (
        served(model, models={"small": model, "large": model}) as service,
        running(service) as base,
        client(base) as http,
    ):
        body = (await http.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["homelab-agent", "homelab-agent-chat", "small", "large"]


async def test_a_chat_completion_answers_the_last_user_message_with_the_trace() -> None:
    model = ScriptedModel(["The UPS battery."])
    async with served(model) as service, running(service) as base, client(base) as http:
        response = await http.post(CHAT, json=ask("What needs replacing?"))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "homelab-agent"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "The UPS battery."}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == 3
    assert body["homelab_agent"]["steps"][0]["index"] == 1


async def test_earlier_user_and_assistant_messages_become_the_history() -> None:
    model = ScriptedModel(["Last March."])
    messages = [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "What needs replacing?"},
        {"role": "assistant", "content": "The UPS battery."},
        {"role": "user", "content": [{"type": "text", "text": "When was it bought?"}]},
    ]
    async with served(model) as service, running(service) as base, client(base) as http:
        await http.post(CHAT, json={"model": "homelab-agent", "messages": messages})
    seen = [(m.role, m.content) for m in model.requests[0].messages[1:]]
    assert seen == [
        ("user", "What needs replacing?"),
        ("assistant", "The UPS battery."),
        ("user", "When was it bought?"),
    ]


async def test_a_configured_model_can_be_asked_for_by_name() -> None:
    default, other = (
        ScriptedModel(["from default"], model_name="d"),
        ScriptedModel(["from other"], model_name="o"),
    )
    async with (
        served(default, models={"d": default, "o": other}) as service,
        running(service) as base,
        client(base) as http,
    ):
        body = (await http.post(CHAT, json={**ask("q"), "model": "o"})).json()
    assert body["choices"][0]["message"]["content"] == "from other"


async def test_bad_requests_and_unknown_models_get_openai_style_errors() -> None:
    async with served(ScriptedModel()) as service, running(service) as base, client(base) as http:
        no_user = await http.post(CHAT, json={"messages": [{"role": "system", "content": "hi"}]})
        unknown = await http.post(CHAT, json={**ask("q"), "model": "gpt-9"})
    assert no_user.status_code == 400 and no_user.json()["error"]["type"] == "invalid_request_error"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"


async def test_a_streamed_completion_sends_chunks_that_add_up_to_the_answer() -> None:
    answer = "Two tasks are open: the UPS battery and the TLS certificate."
    model = ScriptedModel([answer], stream_chunk=8)
    async with (
        served(model) as service,
        running(service) as base,
        client(base) as http,
        http.stream("POST", CHAT, json=ask("q", stream=True)) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == answer
    assert len(chunks) > 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_a_full_queue_answers_429_with_retry_after_and_the_rest_are_answered() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    results: dict[int, httpx.Response] = {}
    async with (
        served(model, concurrency=1, queue_size=2) as service,
        running(service) as base,
        client(base) as http,
    ):

        async def post(i: int) -> None:
            results[i] = await http.post(CHAT, json=ask(f"q{i}"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(post, 0)
            await eventually(lambda: model.started == 1)
            for i in range(1, 8):
                tg.start_soon(post, i)
            await eventually(lambda: len(results) == 5)  # the five that found the line full
            assert service.queue.waiting == 2
            model.gate.set()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200] * 3 + [429] * 5
    for response in results.values():
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            assert response.json()["error"]["code"] == "queue_full"
        else:
            question = json.loads(response.request.content)["messages"][0]["content"]
            assert response.json()["choices"][0]["message"]["content"] == f"answer to {question}"
    assert service.queue.active == 0 and service.queue.waiting == 0


async def test_a_client_that_disconnects_cancels_its_run_and_frees_the_slot() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with (
        served(model, concurrency=1, queue_size=1) as service,
        running(service) as base,
        client(base) as http,
    ):
        async with anyio.create_task_group() as tg:
            tg.start_soon(post, http, "abandoned")
            await eventually(lambda: model.started == 1)
            tg.cancel_scope.cancel()  # the client goes away mid-answer
        await eventually(lambda: model.cancelled == 1 and service.queue.active == 0)
        model.gate.set()
        after = await http.post(CHAT, json=ask("next"))
    assert after.status_code == 200
    assert model.inner.requests[-1].messages[-1].content == "next"
    assert len(model.inner.requests) == 1  # the abandoned question never reached the answer


async def test_a_client_that_disconnects_while_waiting_leaves_the_queue() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with (
        served(model, concurrency=1, queue_size=1) as service,
        running(service) as base,
        client(base) as http,
        anyio.create_task_group() as outer,
    ):
        outer.start_soon(post, http, "first")
        await eventually(lambda: model.started == 1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(post, http, "waiting")
            await eventually(lambda: service.queue.waiting == 1)
            tg.cancel_scope.cancel()
        await eventually(lambda: service.queue.waiting == 0)
        model.gate.set()
    assert model.started == 1 and model.cancelled == 0
    assert service.queue.active == 0


async def test_a_streaming_client_that_disconnects_cancels_its_run_and_frees_the_slot() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with (
        served(model, concurrency=1, queue_size=1) as service,
        running(service) as base,
        client(base) as http,
    ):
        async with http.stream("POST", CHAT, json=ask("abandoned", stream=True)) as response:
            first = await anext(response.aiter_lines())
            assert first.startswith("data: ")
            await eventually(lambda: model.started == 1)
        await eventually(lambda: model.cancelled == 1 and service.queue.active == 0)
        model.gate.set()
        after = await http.post(CHAT, json=ask("next"))
    assert after.status_code == 200
    text = await _metrics(service)
    assert 'homelab_agent_runs_total{outcome="cancelled"} 2.0' not in text
    assert 'homelab_agent_runs_total{outcome="cancelled"} 1.0' in text


async def _metrics(service: Any) -> str:
    return str(service.metrics.render().decode())


async def test_a_failed_run_is_an_openai_style_error_streaming_or_not() -> None:
    model = ScriptedModel([])  # no turns: the model fails at once
    async with (
        served(model) as service,
        running(service) as base,
        client(base) as http,
    ):
        plain = await http.post(CHAT, json=ask("q"))
        async with http.stream("POST", CHAT, json=ask("q", stream=True)) as response:
            lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert plain.status_code == 500
    assert plain.json()["error"]["code"] == "ModelError"
    assert json.loads(lines[-2][6:])["error"]["code"] == "ModelError"
    assert lines[-1] == "data: [DONE]"
    assert service.queue.active == 0
