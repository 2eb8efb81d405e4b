"""Fixtures for serving tests: a `Service` over the board server, and a real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from agent.app import Runtime
from agent.config import AgentSettings, ServeSettings
from agent.loop import Agent
from agent.messages import Message, ModelResponse, ToolSpec
from agent.models.base import Model, TextSink, ToolChoice
from agent.models.scripted import ScriptedModel
from agent.policy import Policy
from agent.serve.http import http_server
from agent.serve.service import Service
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from tests.serve.board_server import build_server

TOKEN = "test-token-0123456789abcdef"


@dataclass
class GatedModel:
    """A `ScriptedModel` that only answers once `gate` is set, counting starts and cancellations."""

    inner: ScriptedModel
    gate: anyio.Event = field(default_factory=anyio.Event)
    started: int = 0
    cancelled: int = 0

    @property
    def name(self) -> str:
        return self.inner.name

    async def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        *,
        on_text: TextSink | None = None,
        tool_choice: ToolChoice = "auto",
        calls: Sequence[ToolSpec] | None = None,
        stop: Sequence[str] = (),
    ) -> ModelResponse:
        self.started += 1
        try:
            await self.gate.wait()
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        return await self.inner.respond(
            messages, tools, on_text=on_text, tool_choice=tool_choice, calls=calls
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def echo(messages: list[Message], tools: list[ToolSpec]) -> str:
    """A scripted answer that repeats the question."""
    return "answer to " + next(m.content for m in reversed(messages) if m.role == "user")


@asynccontextmanager
async def served(
    model: Model | Policy,
    *,
    written: list[str] | None = None,
    models: dict[str, Model] | None = None,
    **serve: Any,
) -> AsyncIterator[Service]:
    """A `Service` whose agent uses `model` (or a policy) and the in-process board server."""
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset("board", tg, server=build_server(written), timeout_s=10)])
        agent = Agent(model, toolbox, AgentSettings(max_steps=4), system_prompt="You help.")
        try:
            built = models or ({} if isinstance(model, Policy) else {model.name: model})
            yield Service(Runtime(agent, toolbox, built), ServeSettings.model_validate(serve))
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()


@asynccontextmanager
async def running(service: Service) -> AsyncIterator[str]:
    """A real uvicorn serving `service` on a free loopback port; yields its base URL."""
    server = http_server(service, "127.0.0.1", 0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


def client(base: str, token: str | None = TOKEN, timeout: float = 10.0) -> httpx.AsyncClient:
    """An HTTP client for the server at `base`, with the bearer token unless None."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout)


async def eventually(condition: Any, within: float = 5.0) -> None:
    """Wait until `condition()` is true (fails after `within` seconds)."""
    with anyio.fail_after(within):
        while not condition():  # noqa: ASYNC110 (polls state owned by the server under test)
            await anyio.sleep(0.01)
