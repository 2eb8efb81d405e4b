"""Write approval: a toolset wrapper that asks before any tool that may change something runs.

A tool needs approval unless its server marks it read-only (`readOnlyHint`) and not destructive.
`ApprovalToolset` calls the injected `approve(tool, arguments)` for those; the answer is a
`Decision` that says why. On a no it raises `WriteNotApprovedError`, a `ToolError` the model reads
as an observation (so the loop goes on unchanged) and a re-exported call returns as its error,
with the reason in it. How the user is asked (MCP elicitation, the 2026-07-28 input round trip, a
config switch) is the caller's business: see `agent.serve.asking`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from agent.exceptions import ToolError
from agent.messages import ToolResult, ToolSpec
from agent.toolsets.base import Toolset

__all__ = [
    "ApprovalToolset",
    "Approver",
    "Decision",
    "WriteNotApprovedError",
    "allow_all",
    "deny_all",
    "needs_approval",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    """Whether one write may run, and why (the model and the logs are told the reason)."""

    approved: bool
    reason: str


Approver = Callable[[ToolSpec, dict[str, Any]], Awaitable[Decision]]
"""Decides whether one write call may run."""

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


async def allow_all(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
    """Approve every write (config `serve.allow_writes = true`)."""
    return Decision(True, "serve.allow_writes = true")


async def deny_all(tool: ToolSpec, arguments: dict[str, Any]) -> Decision:
    """Refuse every write (no way to ask, and writes not allowed by config)."""
    return Decision(False, CANNOT_ASK)


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
        """Run `name`, asking first if it may write."""
        if not self._specs:
            await self.list_tools()
        spec = self._specs.get(name)
        if spec is not None and needs_approval(spec):
            decision = await self.approve(spec, arguments)
            log.info("tool.approval", tool=name, approved=decision.approved, reason=decision.reason)
            if not decision.approved:
                raise WriteNotApprovedError(name, decision.reason)
        return await self.inner.call_tool(name, arguments)

    async def aclose(self) -> None:
        """Nothing to close: the wrapped toolset belongs to the runtime."""
