"""What every stack in a peer run is: something that answers one question and records its steps.

`Stack` is the seam: ours (`OurStack`: homelab-agent as its default config builds it, its Kanboard
server over stdio) and the peers (`host.PeerStack`) both return an `Attempt`, which `run` scores the
same way. This module knows nothing of the peers' libraries.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from agent.app import Runtime, open_agent
from agent.config import AgentSettings, Config, ServerSettings
from agent.exceptions import RunError
from agent.models.base import Model
from agent.trace import Step
from benchmarks.kanboard_qa.runner import Reset

__all__ = ["Attempt", "OurStack", "Stack", "Unstarted", "model_file"]


@dataclass
class Attempt:
    """One question asked of one stack: the answer (or the error that ended the run) and its steps."""

    answer: str
    steps: list[Step] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None  # "ExceptionName: message"; the answer then counts as wrong


class Stack(Protocol):
    """A configuration under test."""

    label: str

    async def run(self, question: str) -> Attempt:
        """Ask `question` in a new conversation."""
        ...


class OurStack:
    """homelab-agent: the default config's agent over `model`, its Kanboard server over stdio.

    `reset` (cold runs) clears the model's caches before each question.
    """

    def __init__(
        self,
        label: str,
        model: Model,
        *,
        kanboard_command: str,
        kanboard_env: Mapping[str, str],
        agent: AgentSettings | None = None,
        reset: Reset | None = None,
    ) -> None:
        self.label = label
        self._model = model
        self._reset = reset
        self._config = Config(
            agent=agent or AgentSettings(),
            mcpServers={
                "kanboard": ServerSettings(
                    command=kanboard_command, env={k: SecretStr(v) for k, v in kanboard_env.items()}
                )
            },
        )
        self._stack = AsyncExitStack()
        self._runtime: Runtime | None = None

    async def __aenter__(self) -> OurStack:
        self._runtime = await self._stack.enter_async_context(open_agent(self._config, model=self._model))
        await self._runtime.toolbox.list_tools()  # start the Kanboard server now, as the peers' hosts do
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def run(self, question: str) -> Attempt:
        """Ask `question` with the agent (after clearing the caches, for a cold stack)."""
        assert self._runtime is not None, "use OurStack as an async context manager"
        if self._reset is not None:
            outcome = self._reset()
            if inspect.isawaitable(outcome):
                await outcome
        steps: list[Step] = []
        started = time.perf_counter()
        try:
            result = await self._runtime.agent.run(question, on_step=steps.append)
        except RunError as exc:
            return Attempt("", steps, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return Attempt(result.answer, list(result.steps), result.duration_s)


class Unstarted:
    """A stack that could not start: every question fails at once with the error that stopped it."""

    def __init__(self, label: str, error: str) -> None:
        self.label = label
        self.error = error  # "PeerStartError: ...", the exact error

    async def run(self, question: str) -> Attempt:
        """No answer: the start error."""
        return Attempt("", error=self.error)


def model_file(path: str) -> Path:
    """A GGUF path with `~` expanded, checked to exist."""
    found = Path(path).expanduser()
    if not found.is_file():
        raise FileNotFoundError(f"no model file at {found}")
    return found
