"""Write approval: the one place that decides whether a tool that may change something runs.

A tool needs approval unless its server marks it read-only (`readOnlyHint`) and not destructive.
Every write path (the agent's own calls, re-exported tools, every transport and protocol version)
runs its tools through an `ApprovalToolset`, whose `Approver` is chosen here by `policy()`:

    an MCP client that offers elicitation ("elicitation")
        -> `ask_user`: the call is deferred (`CallDeferred`); the run ends, paused, and its queue
           slot is free; the transport asks the user; the decision resumes the run
    a chat client of the OpenAI API ("chat")
        -> asked the same way, in the chat (`agent.serve.chat_approval`), unless
           `serve.allow_writes = true` lets writes run without asking
    an MCP client without elicitation ("none")
        -> `serve.allow_writes` decides: `allow_all`, or `deny_all` with the reason
    a run resumed with the user's decisions
        -> `decided(...)`: each decision once, for the call it was given for; any other write
           is deferred again

A refusal raises `WriteNotApprovedError`, a `ToolError` the model reads as an observation (so the
loop goes on unchanged) and a re-exported call returns as its error, with the reason in it. How a
user is asked (elicitation, the 2026-07-28 input round trip, a chat answer) is the transports'
business (`agent.serve.asking`, `agent.serve.chat_approval`); where a paused run waits is
`agent.serve.pending`'s.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from agent.exceptions import CallDeferred, ToolError
from agent.messages import ToolCall, ToolResult, ToolSpec
from agent.toolsets.base import Toolset

__all__ = [
    "ApprovalToolset",
    "Approver",
    "Asking",
    "Decision",
    "WriteNotApprovedError",
    "allow_all",
    "approval_question",
    "ask_user",
    "call_key",
    "decided",
    "deny_all",
    "needs_approval",
    "policy",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    """Whether one write may run, and why (the model and the logs are told the reason)."""

    approved: bool
    reason: str


Approver = Callable[[ToolSpec, dict[str, Any]], Awaitable[Decision]]
"""Decides whether one write call may run, or raises `CallDeferred` to ask the user first."""

CANNOT_ASK = (
    "this MCP client cannot ask its user to approve writes (it offers no elicitation) "
    "and the server's config does not allow writes without asking (serve.allow_writes = false)"
)


class WriteNotApprovedError(ToolError):
    """The user (or the server's config) did not allow a write tool to run."""

    def __init__(self, tool: str, reason: str) -> None:
        super().__init__(
            f"{tool!r} can change data and was not run: {reason}. Do not retry it; "
            "tell the user what you would have done instead"
        )
        self.tool = tool
        self.reason = reason


def needs_approval(spec: ToolSpec) -> bool:
    """Whether `spec` may change something: destructive, or not marked read-only."""
    return spec.destructive is True or spec.read_only is not True


def call_key(name: str, arguments: Mapping[str, Any]) -> str:
    """One call's identity for a decision: its tool and arguments, canonically."""
    return json.dumps([name, arguments], sort_keys=True, ensure_ascii=False, default=str)


def approval_question(call: ToolCall | tuple[str, Mapping[str, Any]]) -> str:
    """What the user is asked before a write runs."""
    name, arguments = (call.name, call.arguments) if isinstance(call, ToolCall) else call
    args = json.dumps(arguments, ensure_ascii=False)
    return f"The agent wants to run {name}({args}), which can change data. Allow it?"


async def allow_all(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
    """Approve every write (config `serve.allow_writes = true`, for clients that cannot be asked)."""
    return Decision(True, "serve.allow_writes = true")


async def deny_all(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
    """Refuse every write (no way to ask, and writes not allowed by config)."""
    return Decision(False, CANNOT_ASK)


async def ask_user(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
    """Defer the call: the run ends, paused, until the user decides."""
    raise CallDeferred(tool.name)


Asking = Literal["elicitation", "chat", "none"]
"""How a client's user can be asked: MCP elicitation, a chat answer, or not at all."""


def policy(asking: Asking, allow_writes: bool) -> Approver:
    """The approver for a request, from how its client can ask and `serve.allow_writes`."""
    if asking == "elicitation" or (asking == "chat" and not allow_writes):
        return ask_user
    return allow_all if allow_writes else deny_all


def decided(decisions: Mapping[str, Decision]) -> Approver:
    """An approver holding the user's `decisions` by `call_key`: each used once; others deferred."""
    left = dict(decisions)

    async def approve(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
        decision = left.pop(call_key(tool.name, arguments), None)
        if decision is None:
            raise CallDeferred(tool.name)
        return decision

    return approve


@dataclass
class ApprovalToolset:
    """`inner`, with write tools run only when `approve` says yes."""

    inner: Toolset
    approve: Approver
    name: str = field(init=False)  # the wrapped toolset's name
    _specs: dict[str, ToolSpec] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.name = self.inner.name

    async def list_tools(self) -> list[ToolSpec]:
        """The wrapped tools, unchanged."""
        specs = await self.inner.list_tools()
        self._specs = {s.name: s for s in specs}
        return specs

    async def instructions(self) -> str:
        """The wrapped toolset's instructions."""
        return await self.inner.instructions()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run `name`, asking first if it may write (`CallDeferred` when the user must decide)."""
        if not self._specs:
            await self.list_tools()
        spec = self._specs.get(name)
        if spec is None or needs_approval(spec):  # a tool not listed is treated as a write
            spec = spec or ToolSpec(name=name)
            decision = await self.approve(spec, arguments)
            log.info("tool.approval", tool=name, approved=decision.approved, reason=decision.reason)
            if not decision.approved:
                raise WriteNotApprovedError(name, decision.reason)
        return await self.inner.call_tool(name, arguments)

    async def aclose(self) -> None:
        """Nothing to close: the wrapped toolset belongs to the runtime."""
