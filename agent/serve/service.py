"""What every transport shares: the runtime, the queue, the metrics, the sessions, and `answer()`.

`Service.answer` is the one way a served question reaches the agent: it takes a place in the fair
queue, wraps the toolbox in the request's write-approval policy, runs the question (alone, or in a
session), and records the outcome in the metrics. The MCP server and the OpenAI-compatible API
call it; neither touches the loop directly. Transports and HTTP live in sibling modules.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import structlog

from agent.app import Runtime
from agent.config import ServeSettings
from agent.exceptions import ModelNotFoundError
from agent.loop import Agent, StepHook
from agent.messages import Message
from agent.models.base import TextSink
from agent.serve.approval import ApprovalToolset, Approver, allow_all, deny_all
from agent.serve.metrics import Metrics
from agent.serve.queue import FairQueue, QueueFullError, Ticket
from agent.serve.sessions import ServedSession, SessionStore
from agent.trace import RunResult

__all__ = ["AGENT_MODEL_ID", "Service"]

log = structlog.get_logger(__name__)

AGENT_MODEL_ID = "homelab-agent"
"""The model id under which HTTP clients reach the agent with its configured model."""


@dataclass
class Service:
    """A running agent, shared by every transport of one `serve` process."""

    runtime: Runtime
    settings: ServeSettings = field(default_factory=ServeSettings)
    metrics: Metrics = field(default_factory=Metrics)
    queue: FairQueue = field(init=False)
    sessions: SessionStore = field(init=False)
    started: int = field(init=False)  # when the service started, Unix seconds ("created" of /v1/models)

    def __post_init__(self) -> None:
        self.started = int(time.time())
        self.queue = FairQueue(self.settings.concurrency, self.settings.queue_size)
        self.sessions = SessionStore(self.runtime.agent)
        self.metrics.watch_queue(lambda: self.queue.waiting, lambda: self.queue.active)

    @property
    def model_ids(self) -> list[str]:
        """The ids HTTP clients may ask for: the agent itself, then each configured model."""
        return [AGENT_MODEL_ID, *(m for m in self.runtime.models if m != AGENT_MODEL_ID)]

    def reserve(self) -> Ticket:
        """A place in the queue; `QueueFullError` (counted) when the queue is full."""
        try:
            return self.queue.reserve()
        except QueueFullError:
            self.metrics.rejected.inc()
            raise

    def agent_for(self, approve: Approver | None = None, model: str | None = None) -> Agent:
        """The runtime's agent, its tools behind `approve` (default: the config's policy)."""
        base = self.runtime.agent
        answering = base.model
        if model not in (None, "", AGENT_MODEL_ID):
            if model not in self.runtime.models:
                known = ", ".join(self.model_ids)
                raise ModelNotFoundError(f"no model named {model!r}; the models are: {known}")
            answering = self.runtime.models[model]
        policy = approve or (allow_all if self.settings.allow_writes else deny_all)
        return Agent(answering, ApprovalToolset(base.toolset, policy), base.settings, base.system_prompt)

    async def answer(
        self,
        question: str,
        *,
        history: Sequence[Message] = (),
        session: ServedSession | None = None,
        on_text: TextSink | None = None,
        on_step: StepHook | None = None,
        approve: Approver | None = None,
        model: str | None = None,
        ticket: Ticket | None = None,
    ) -> RunResult:
        """Answer `question` when the queue lets it; the ticket is always released.

        Raises:
            QueueFullError: the queue is full (only when no `ticket` is given).
            HomelabAgentError: the run failed (model, config, step limit), or the tools could not be listed.
        """
        agent = self.agent_for(approve, model)
        if session is None:
            return await self._queued(
                ticket, lambda: agent.run(question, history=history, on_text=on_text, on_step=on_step)
            )
        async with session.lock:  # one question at a time per conversation, before taking a slot
            session.session.agent = agent
            return await self._queued(
                ticket, lambda: session.session.ask(question, on_text=on_text, on_step=on_step)
            )

    async def _queued(self, ticket: Ticket | None, run: Callable[[], Awaitable[RunResult]]) -> RunResult:
        ticket = ticket or self.reserve()
        try:
            async with ticket:
                result = await run()
        except anyio.get_cancelled_exc_class():
            self.metrics.runs.labels("cancelled").inc()
            log.info("serve.cancelled")
            raise
        except Exception as exc:
            self.metrics.observe_failure(exc)
            raise
        finally:
            ticket.release()
        self.metrics.observe_run(result)
        return result
