"""Our stack in a peer run, and a stack that could not start.

Every stack is a `benchmarks.runner.Stack`: ours (`OurStack`: homelab-agent as its default config
builds it, its Kanboard server over stdio) and the peers (`host.PeerStack`) both return an
`Attempt`, which `run` scores the same way. This module knows nothing of the peers' libraries.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path

from pydantic import SecretStr

from agent.app import Runtime, open_agent
from agent.config import AgentSettings, Config, ServerSettings
from agent.models.base import Model
from benchmarks.runner import Attempt, Reset, ask_agent, reset_caches

__all__ = ["OurStack", "Unstarted", "model_file"]


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
        await reset_caches(self._reset)
        return await ask_agent(self._runtime.agent, question)


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
