"""Shared fixtures: the repository root, an agent wired to the notes test server, and the Docker
test stack.

The Docker tests need a Docker Engine they may create containers on, named by
HOMELAB_AGENT_TEST_DOCKER_HOST (`scripts/test.sh` starts a scratch one as root). Without one
they are skipped on a developer's machine and fail in CI (CI=true), where they must run.

Before anything else the suite moves into a home, a working directory and an environment of its
own (`tests.support.hermetic`): no test, and no subprocess a test starts, reads the user's
./homelab-agent.toml, ~/.config/homelab-agent/, models directory or shell variables.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
import structlog

from agent.config import AgentSettings, ServerSettings
from agent.loop import Agent
from agent.models.base import Model
from agent.policy import Policy
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from tests.support.docker_stack import ENGINE_ENV, Stack, build_stack, engine_host, remove_stack
from tests.support.hermetic import isolate
from tests.support.notes_server import build_server

isolate()  # before any test runs (importing the code reads nothing of the user's)

ROOT = Path(__file__).resolve().parents[1]

AgentFactory = Callable[..., AbstractAsyncContextManager[Agent]]


@asynccontextmanager
async def notes_agent(
    model: Model | Policy, *, stdio: bool = False, timeout_s: float = 10.0, **settings: object
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


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The test stack on the scratch engine, built once per session and removed afterwards."""
    host = engine_host()
    if host is None:
        pytest.fail(
            f"no Docker Engine for the Docker tests: set {ENGINE_ENV} to a scratch engine "
            "(as root, scripts/test.sh starts one with scripts/scratch-dockerd.sh), "
            "or leave them out with -m 'not docker_engine'",
            pytrace=False,
        )
    try:
        built = anyio.run(build_stack, host)
    except (httpx.TransportError, RuntimeError) as exc:
        pytest.fail(f"cannot build the test stack on the Docker Engine at {host}: {exc}", pytrace=False)
    yield built
    anyio.run(remove_stack, built)
