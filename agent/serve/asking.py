"""How the MCP server asks its client's user before a write runs, on every protocol version.

Chosen per request from what the client declared and the protocol it speaks:

- a client that offers no elicitation cannot be asked: the config decides (`serve.allow_writes`),
  and a refusal says exactly that;
- a handshake-era connection (stdio, or a streamable-HTTP session opened with `initialize`) is
  asked in the middle of the call with an elicitation request (`elicit_approver`);
- a 2026-07-28 request has no back-channel: the call answers `InputRequiredResult` with the
  question, and the run waits, parked in a task of its own, until the client retries the call
  with the answer (`ParkedCalls`). Fastmcp's and the SDK's `Client` do this by default.

The answers are turned into `Decision`s for `agent.serve.approval`; a refusal carries its reason
(declined, dismissed, not answered in time, cannot ask). Nothing here runs the agent.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import structlog
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    InputResponses,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from agent.exceptions import ToolError
from agent.messages import ToolSpec
from agent.serve.approval import CANNOT_ASK, Approver, Decision

__all__ = [
    "ParkedCalls",
    "WriteApproval",
    "approval_question",
    "can_elicit",
    "elicit_approver",
    "input_rounds",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")
C = TypeVar("C")

INPUT_ROUNDS_VERSION = "2026-07-28"  # from this protocol on, a tool call asks through InputRequiredResult


class WriteApproval(BaseModel):
    """The form a client shows before a write tool runs."""

    approve: bool = Field(description="Run this tool now?")


_SCHEMA = render_elicitation_schema(WriteApproval)


def approval_question(tool: ToolSpec, arguments: dict[str, Any]) -> str:
    """What the user is asked before `tool` runs with `arguments`."""
    args = json.dumps(arguments, ensure_ascii=False)
    return f"The agent wants to run {tool.name}({args}), which can change data. Allow it?"


def decision(answer: ElicitResult) -> Decision:
    """The user's answer to an approval question, as a `Decision` with its reason."""
    if answer.action == "accept":
        if (answer.content or {}).get("approve") is True:
            return Decision(True, "approved by the user")
        return Decision(False, "the user answered no")
    if answer.action == "decline":
        return Decision(False, "the user declined")
    return Decision(False, "the user dismissed the question without answering")


def can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared that its user can be asked (form elicitation)."""
    caps = ctx.client_capabilities
    return caps is not None and caps.elicitation is not None


def input_rounds(ctx: Context[Any, Any]) -> bool:
    """Whether this request speaks a protocol that asks through `InputRequiredResult` rounds."""
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, INPUT_ROUNDS_VERSION)


def config_decision(allow_writes: bool) -> Decision:
    """What the config says when the user cannot be asked."""
    return Decision(True, "serve.allow_writes = true") if allow_writes else Decision(False, CANNOT_ASK)


def elicit_approver(ctx: Context[Any, Any], allow_writes: bool) -> Approver:
    """Ask the client's user mid-call (handshake-era connections); the config decides if that fails."""

    async def approve(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
        try:
            answer = await ctx.elicit(approval_question(tool, arguments), WriteApproval)
        except Exception as exc:  # no back-channel on this connection after all
            log.info("tool.approval.unavailable", tool=tool.name, error=type(exc).__name__)
            fallback = config_decision(allow_writes)
            if fallback.approved:
                return fallback
            return Decision(
                False,
                f"this connection cannot carry the question ({type(exc).__name__}) and "
                "serve.allow_writes is false",
            )
        if answer.action == "accept":
            return decision(ElicitResult(action="accept", content={"approve": answer.data.approve}))
        return decision(ElicitResult(action=answer.action))

    return approve


@dataclass
class _Question:
    key: str
    message: str
    answer: ElicitResult | None = None
    answered: anyio.Event = field(default_factory=anyio.Event)


@dataclass
class _Done(Generic[T]):
    value: T | None = None
    error: Exception | None = None


@dataclass
class _Parked(Generic[T, C]):
    id: str
    events: MemoryObjectReceiveStream[_Question | _Done[T]]
    context: C
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    pending: _Question | None = None


class ParkedCalls(Generic[T, C]):
    """Tool calls that wait, between the rounds of a 2026-07-28 call, for the user's approval.

    `start(work, context)` runs `work(approve, current)` in a task of `task_group`: `approve` parks
    the call with a question, and `current()` is the context of the round now in progress (for
    progress reports). Each of `start` and `resume` returns the call's value, or the
    `InputRequiredResult` to send the client; a question left unanswered for `timeout_s` cancels
    the call, and so does a client that goes away while its call runs.
    """

    def __init__(self, task_group: TaskGroup, timeout_s: float) -> None:
        self._tg = task_group
        self.timeout_s = timeout_s
        self._parked: dict[str, _Parked[T, C]] = {}

    def __len__(self) -> int:
        return len(self._parked)

    async def start(
        self, work: Callable[[Approver, Callable[[], C]], Awaitable[T]], context: C
    ) -> T | InputRequiredResult:
        """Run `work` until it finishes or needs an answer."""
        send, receive = anyio.create_memory_object_stream[_Question | _Done[T]](math.inf)
        parked: _Parked[T, C] = _Parked(secrets.token_urlsafe(18), receive, context)
        self._parked[parked.id] = parked
        self._tg.start_soon(self._run, parked, send, work)
        return await self._next(parked)

    async def resume(
        self, state: str, responses: InputResponses | None, context: C
    ) -> T | InputRequiredResult:
        """Deliver the client's answer to the call parked under `state`, and go on with it.

        Raises:
            ToolError: nothing is parked under `state` (answered already, timed out, or never asked).
        """
        parked = self._parked.get(state)
        if parked is None:
            raise ToolError(
                "this approval is not pending any more (answered already, or not answered within "
                f"{self.timeout_s:.0f}s); call the tool again"
            )
        parked.context = context
        question = parked.pending
        answer = (responses or {}).get(question.key) if question is not None else None
        if question is not None and isinstance(answer, ElicitResult):
            parked.pending = None
            question.answer = answer
            question.answered.set()
            return await self._next(parked)
        if question is not None:  # retried without the answer: ask again
            return self._ask(parked, question)
        return await self._next(parked)

    async def _run(
        self,
        parked: _Parked[T, C],
        send: MemoryObjectSendStream[_Question | _Done[T]],
        work: Callable[[Approver, Callable[[], C]], Awaitable[T]],
    ) -> None:
        count = 0

        async def approve(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
            nonlocal count
            count += 1
            question = _Question(f"approve-{count}", approval_question(tool, arguments))
            parked.pending = question
            send.send_nowait(question)
            with anyio.move_on_after(self.timeout_s):
                await question.answered.wait()
            if question.answer is None:
                log.info("tool.approval.timeout", tool=tool.name, seconds=self.timeout_s)
                parked.scope.cancel()  # nobody came back for it: free its place in the queue
                return Decision(False, f"the user did not answer within {self.timeout_s:.0f}s")
            return decision(question.answer)

        with send, parked.scope:
            try:
                value = await work(approve, lambda: parked.context)
            except Exception as exc:
                send.send_nowait(_Done(error=exc))
            else:
                send.send_nowait(_Done(value=value))
        self._parked.pop(parked.id, None)

    async def _next(self, parked: _Parked[T, C]) -> T | InputRequiredResult:
        try:
            event = await parked.events.receive()
        except anyio.get_cancelled_exc_class():  # the client went away while its call ran
            parked.scope.cancel()
            raise
        except anyio.EndOfStream:
            raise ToolError("the call was cancelled: its approval was not answered in time") from None
        if isinstance(event, _Done):
            if event.error is not None:
                raise event.error
            return event.value  # type: ignore[return-value]
        return self._ask(parked, event)

    def _ask(self, parked: _Parked[T, C], question: _Question) -> InputRequiredResult:
        request = ElicitRequest(
            params=ElicitRequestFormParams(message=question.message, requested_schema=_SCHEMA)
        )
        return InputRequiredResult(input_requests={question.key: request}, request_state=parked.id)
