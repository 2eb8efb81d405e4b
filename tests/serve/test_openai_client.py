"""The OpenAI-compatible API through the official `openai` package, on a real loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import openai
import pytest
from openai import AsyncOpenAI

from agent.messages import ToolCall
from agent.models.base import Model
from agent.models.scripted import ScriptedModel
from agent.serve.service import Service
from tests.serve.conftest import TOKEN, GatedModel, echo, eventually, running, served

USER = [{"role": "user", "content": "What is open?"}]


@asynccontextmanager
async def openai_client(model: Model, **serve: object) -> AsyncIterator[tuple[AsyncOpenAI, Service]]:
    """The official client, with the token, for a server whose agent answers with `model`."""
    async with (
        served(model, bearer_token=TOKEN, **serve) as service,
        running(service) as base,
        AsyncOpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0) as client,
    ):
        yield client, service


async def test_models_are_listed_and_retrieved_by_id() -> None:
    async with openai_client(ScriptedModel(model_name="small")) as (client, _):
        listed = [m.id async for m in client.models.list()]
        agent = await client.models.retrieve("homelab-agent")
        with pytest.raises(openai.NotFoundError, match="no model named 'gpt-9'"):
            await client.models.retrieve("gpt-9")
    assert listed == ["homelab-agent", "homelab-agent-chat", "small"]
    assert agent.id == "homelab-agent" and agent.owned_by == "homelab-agent"


async def test_a_completion_answers_with_usage() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks are open."])
    async with openai_client(model) as (client, _):
        completion = await client.chat.completions.create(model="homelab-agent", messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Two tasks are open."
    assert completion.usage is not None and completion.usage.completion_tokens > 0


async def test_a_stream_with_include_usage_ends_with_a_usage_chunk() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks are open."])
    async with openai_client(model) as (client, _):
        stream = await client.chat.completions.create(
            model="homelab-agent",
            messages=USER,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Two tasks are open."
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


async def test_a_stream_without_include_usage_carries_no_usage() -> None:
    async with openai_client(ScriptedModel(["Fine."])) as (client, _):
        stream = await client.chat.completions.create(model="homelab-agent", messages=USER, stream=True)  # type: ignore[arg-type]
        chunks = [chunk async for chunk in stream]
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
async def test_what_the_agent_cannot_honour_is_a_bad_request_naming_the_parameter(
    extra: dict[str, object], param: str
) -> None:
    model = ScriptedModel(function=echo)
    async with openai_client(model) as (client, _):
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="homelab-agent", messages=USER, **extra)  # type: ignore[call-overload]
    assert caught.value.param == param
    assert model.requests == []


async def test_a_request_with_client_tools_is_answered_with_the_agents_own_tools() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks are open."])
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    async with openai_client(model) as (client, _):
        completion = await client.chat.completions.create(
            model="homelab-agent",
            messages=USER,  # type: ignore[arg-type]
            tools=tools,  # type: ignore[arg-type]
            tool_choice="auto",
        )
    assert completion.choices[0].message.content == "Two tasks are open."
    assert completion.choices[0].message.tool_calls is None
    assert {t.name for t in model.requests[0].tools} == {"board__list_tasks", "board__add_task"}


async def test_errors_arrive_as_the_openai_packages_exception_types() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with openai_client(model, concurrency=1, queue_size=1, max_body_bytes=4096) as (client, service):
        async with AsyncOpenAI(base_url=str(client.base_url), api_key="x" * 30, max_retries=0) as wrong:
            with pytest.raises(openai.AuthenticationError):
                await wrong.models.list()
        with pytest.raises(openai.APIStatusError) as too_big:
            await client.chat.completions.create(
                model="homelab-agent", messages=[{"role": "user", "content": "x" * 5000}]
            )
        assert too_big.value.status_code == 413
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(lambda: client.chat.completions.create(model="homelab-agent", messages=USER))  # type: ignore[arg-type]
            await eventually(lambda: service.queue.waiting == 1)
            with pytest.raises(openai.RateLimitError, match="busy"):
                await client.chat.completions.create(model="homelab-agent", messages=USER)  # type: ignore[arg-type]
            model.gate.set()
