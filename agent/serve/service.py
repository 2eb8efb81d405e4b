"""What every transport shares: the runtime, the queue, the store, the metrics, and the run methods.

`Service.answer` is the one way a served question reaches the agent: it takes a place in the fair
queue, wraps the toolbox in the request's write-approval policy (`agent.serve.approval`), runs the
question (alone, or in a session), and records the outcome in the metrics. A run that needs the
user's approval returns paused and gives its slot back at once; `park` keeps it in the store
(`agent.serve.pending`) and `resume` goes on with it, in a new slot, once the decision comes: in
another request, on another replica, after a restart. `Service.chat` is the plain model behind
`homelab-agent-chat`: one turn of the answering model on the client's own messages, no tools and no
agent loop, in a place in the same queue (a chat UI's titles, tags and follow-up suggestions cost one
short generation, not a run). `Service.call_tool` is the one way a re-exported tool is called: the
same approval, a place in the same queue, one log line and a metric. The MCP server and the
OpenAI-compatible API call these; neither touches the loop or the toolbox directly. Transports and
HTTP live in sibling modules.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog

from agent.app import Runtime
from agent.config import ServeSettings
from agent.exceptions import CallDeferred, ModelError, ModelNotFoundError
from agent.loop import Agent, StepHook
from agent.messages import Message, ToolCall, ToolResult
from agent.models.base import Checkable, Model, TextSink
from agent.router import Router
from agent.serve.approval import (
    ApprovalToolset,
    Approver,
    Asking,
    Decision,
    WriteNotApprovedError,
    decided,
    policy,
)
from agent.serve.metrics import Metrics
from agent.serve.pending import Pending, PendingRuns
from agent.serve.queue import FairQueue, QueueFullError, Ticket
from agent.serve.sessions import ServedSession, SessionStore
from agent.serve.store import RunStore, open_store
from agent.trace import RunResult, Step

__all__ = ["AGENT_MODEL_ID", "CHAT_MODEL_ID", "Service"]

log = structlog.get_logger(__name__)

AGENT_MODEL_ID = "homelab-agent"
"""The model id under which HTTP clients reach the agent with its configured model."""

CHAT_MODEL_ID = "homelab-agent-chat"
"""The model id of the plain model: the answering model on the client's messages, without tools."""


@dataclass
class Service:
    """A running agent, shared by every transport of one `serve` process."""

    runtime: Runtime
    settings: ServeSettings = field(default_factory=ServeSettings)
    metrics: Metrics = field(default_factory=Metrics)
    queue: FairQueue = field(init=False)
    store: RunStore = field(init=False)  # conversations and pending approvals (`serve.store`)
    sessions: SessionStore = field(init=False)
    pending: PendingRuns = field(init=False)
    started: int = field(init=False)  # when the service started, Unix seconds ("created" of /v1/models)
    _checked_at: float = field(default=-1e9, init=False, repr=False)
    _unreachable: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.started = int(time.time())
        self.queue = FairQueue(self.settings.concurrency, self.settings.queue_size)
        self.store = open_store(self.settings.store)
        self.sessions = SessionStore(
            self.runtime.agent,
            self.store,
            max_session_bytes=self.settings.max_history_bytes,
            max_bytes=self.settings.session_memory_bytes,
        )
        self.pending = PendingRuns(self.store, self.settings.approval_timeout_s)
        self.metrics.watch_queue(lambda: self.queue.waiting, lambda: self.queue.active)

    async def aclose(self) -> None:
        """Close the store (the runtime belongs to the caller)."""
        await self.store.aclose()

    async def unreachable_models(self) -> dict[str, str]:
        """The models whose backend does not answer now, and why (checked at most every 5 s)."""
        now = time.monotonic()
        if now - self._checked_at < 5:
            return self._unreachable
        problems: dict[str, str] = {}
        for name, model in self.runtime.models.items():
            if isinstance(model, Checkable):
                try:
                    await model.check()
                except ModelError as exc:
                    problems[name] = str(exc)
        self._checked_at, self._unreachable = time.monotonic(), problems
        return problems

    @property
    def model_ids(self) -> list[str]:
        """The ids HTTP clients may ask for: the agent, the plain model, then each configured model."""
        ours = (AGENT_MODEL_ID, CHAT_MODEL_ID)
        return [*ours, *(m for m in self.runtime.models if m not in ours)]

    @property
    def plain_model(self) -> Model:
        """The model behind `homelab-agent-chat`: the answering model (the router's small one)."""
        answering = self.runtime.agent.model
        if isinstance(answering, Router):
            return answering.small
        if isinstance(answering, Model):
            return answering
        return next(iter(self.runtime.models.values()))  # a policy of its own: its first model

    def reserve(self) -> Ticket:
        """A place in the queue; `QueueFullError` (counted) when the queue is full."""
        try:
            return self.queue.reserve()
        except QueueFullError:
            self.metrics.rejected.inc()
            raise

    def approver(self, asking: Asking) -> Approver:
        """The approval policy for a client that asks its user this way (`agent.serve.approval`)."""
        return policy(asking, self.settings.allow_writes)

    def agent_for(self, approve: Approver | None = None, model: str | None = None) -> Agent:
        """The runtime's agent, its tools behind `approve` (default: the client cannot be asked)."""
        base = self.runtime.agent
        answering = base.model
        if model not in (None, "", AGENT_MODEL_ID):
            if model not in self.runtime.models:
                known = ", ".join(self.model_ids)
                raise ModelNotFoundError(f"no model named {model!r}; the models are: {known}")
            answering = self.runtime.models[model]
        return Agent(
            answering,
            ApprovalToolset(base.toolset, approve or self.approver("none")),
            base.settings,
            base.system_prompt,
        )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], approve: Approver | None = None
    ) -> ToolResult:
        """One re-exported tool call: approved like the agent's calls, in a queue slot, logged.

        Raises:
            QueueFullError: the queue is full.
            CallDeferred: the user must decide first (`approve` is `ask_user`); park the call.
            WriteNotApprovedError: a write that was not approved (the reason is in the message).
            HomelabAgentError: the tool or its server failed.
        """
        toolset = ApprovalToolset(self.runtime.toolbox, approve or self.approver("none"))
        started, outcome = time.perf_counter(), "error"
        try:
            ticket = self.reserve()
            try:
                async with ticket:
                    result = await toolset.call_tool(name, arguments)
            finally:
                ticket.release()
            outcome = "error" if result.is_error else "ok"
            return result
        except QueueFullError:
            outcome = "busy"
            raise
        except CallDeferred:
            outcome = "pending"
            raise
        except WriteNotApprovedError:
            outcome = "refused"
            raise
        finally:
            self.metrics.tool_calls.labels(name, outcome).inc()
            log.info(
                "serve.tool_call", tool=name, outcome=outcome, seconds=round(time.perf_counter() - started, 3)
            )

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

        The result is paused (`result.paused`) when a write waits for the user: `park` it.

        Raises:
            QueueFullError: the queue is full (only when no `ticket` is given).
            HomelabAgentError: the run failed (model, config, step limit), or the tools could not be listed.
        """
        agent = self.agent_for(approve, model)
        if session is None:
            return await self._queued(
                ticket, lambda: agent.run(question, history=history, on_text=on_text, on_step=on_step)
            )
        return await self._in_session(
            session, ticket, agent, lambda: session.session.ask(question, on_text=on_text, on_step=on_step)
        )

    async def park(
        self,
        owner: str,
        *,
        result: RunResult | None = None,
        call: ToolCall | None = None,
        conversation: str = "",
        model: str | None = None,
        session_id: str | None = None,
    ) -> Pending:
        """Keep a paused run (or a deferred re-exported call) in the store until the user decides."""
        paused = None if result is None else result.paused
        return await self.pending.park(
            owner=owner,
            conversation=conversation,
            paused=paused,
            call=call,
            model=model,
            session_id=session_id,
        )

    async def resume(
        self,
        pending: Pending,
        decisions: Mapping[str, Decision],
        *,
        on_text: TextSink | None = None,
        on_step: StepHook | None = None,
        ticket: Ticket | None = None,
    ) -> RunResult | ToolResult:
        """Go on with a claimed `pending` run or call, with the user's `decisions` (by `call_key`).

        Raises:
            QueueFullError: the queue is full (only when no `ticket` is given).
            UnknownSessionError: the run's conversation has gone (expired, or evicted).
            HomelabAgentError: as for `answer` and `call_tool`.
        """
        approve = decided(decisions)
        if pending.call is not None:
            if ticket is not None:
                ticket.release()
            return await self.call_tool(pending.call.name, pending.call.arguments, approve)
        paused = pending.paused
        assert paused is not None
        agent = self.agent_for(approve, pending.model)
        if pending.session_id is None:
            return await self._queued(
                ticket, lambda: agent.run(paused.question, on_text=on_text, on_step=on_step, resume=paused)
            )
        session = await self.sessions.open(pending.session_id, pending.owner)
        return await self._in_session(
            session, ticket, agent, lambda: session.session.resume(paused, on_text=on_text, on_step=on_step)
        )

    async def _in_session(
        self,
        session: ServedSession,
        ticket: Ticket | None,
        agent: Agent,
        run: Callable[[], Awaitable[RunResult]],
    ) -> RunResult:
        async with session.lock:  # one question at a time per conversation, before taking a slot
            session.session.agent = agent
            try:
                return await self._queued(ticket, run)
            finally:
                with anyio.CancelScope(shield=True):  # keep the conversation even when cancelled
                    await self.sessions.settle(session)

    async def chat(
        self, messages: Sequence[Message], *, on_text: TextSink | None = None, ticket: Ticket | None = None
    ) -> RunResult:
        """One plain turn of `plain_model` on `messages` (no tools), when the queue lets it.

        Raises:
            QueueFullError: the queue is full (only when no `ticket` is given).
            HomelabAgentError: the model failed (e.g. the conversation does not fit its context).
        """
        model = self.plain_model
        ticket = ticket or self.reserve()
        started, outcome = time.perf_counter(), "error"
        model_s = 0.0
        try:
            async with ticket:
                began = time.perf_counter()
                response = await model.respond(messages, [], on_text=on_text, tool_choice="none")
                model_s = time.perf_counter() - began
            outcome = "ok"
        except anyio.get_cancelled_exc_class():
            outcome = "cancelled"
            raise
        finally:
            ticket.release()
            seconds = time.perf_counter() - started
            self.metrics.chats.labels(outcome).inc()
            log.info(
                "serve.chat",
                model=model.name,
                outcome=outcome,
                seconds=round(seconds, 3),
                model_s=round(model_s, 3),
            )
        step = Step(index=1, model=model.name, model_s=model_s, usage=response.usage, text=response.text)
        return RunResult(answer=response.text, steps=[step], usage=response.usage, duration_s=seconds)

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
