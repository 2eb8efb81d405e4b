"""Shared fixtures: the repository root, and an agent wired to the notes test server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import pytest
import structlog

from agent.config import AgentSettings, ServerSettings
from agent.loop import Agent
from agent.models.base import Model
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from tests.support.notes_server import build_server

ROOT = Path(__file__).resolve().parents[1]

AgentFactory = Callable[..., AbstractAsyncContextManager[Agent]]


@asynccontextmanager
async def notes_agent(
    model: Model, *, stdio: bool = False, timeout_s: float = 10.0, **settings: object
) -> AsyncIterator[Agent]:
    """An agent whose only toolset is the notes server, in-process or as a stdio subprocess."""
    async with anyio.create_task_group() as tg:
        if stdio:
            server = ServerSettings(
                command=sys.executable,
                args=["-m", "tests.support.notes_server"],
                cwd=str(ROOT),
                timeout_s=timeout_s,
            )
            toolset = MCPToolset("notes", tg, settings=server)
        else:
            toolset = MCPToolset("notes", tg, server=build_server(), timeout_s=timeout_s)
        toolbox = Toolbox([toolset])
        try:
            yield Agent(model, toolbox, AgentSettings.model_validate(settings), system_prompt="You help.")
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture
def make_agent() -> AgentFactory:
    """`make_agent(model, stdio=False, **AgentSettings)` as an async context manager."""
    return notes_agent
