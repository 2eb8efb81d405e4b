"""How the MCP server asks its client's user about the writes a paused run waits for.

Whether a client can be asked at all is `can_elicit` (it declared elicitation); one that cannot is
never asked: `agent.serve.approval.policy` lets the config decide. For one that can, the run has
already ended, paused, and its queue slot is free (`agent.serve.service`); then, by protocol:

- a handshake-era connection (stdio, or a streamable-HTTP session opened with `initialize`) is
  asked with one elicitation request per waiting call (`elicit_decisions`), and the run resumes
  in the same call;
- a 2026-07-28 request has no back-channel: the call answers `InputRequiredResult` with the
  questions and the pending approval's reference as `request_state` (`input_required`); the
  client retries the call with the answers (`decisions_from`), on any replica, and the run
  resumes from the store. Fastmcp's and the SDK's `Client` do this by default.

The answers become `Decision`s with their reason (declined, dismissed, not answered in time).
Nothing here runs the agent or keeps state.
"""

from __future__ import annotations

from typing import Any

import anyio
import structlog
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

from agent.messages import ToolCall
from agent.serve.approval import Decision, approval_question, call_key
from agent.serve.pending import Pending

__all__ = [
    "WriteApproval",
    "can_elicit",
    "decision",
    "decisions_from",
    "elicit_decisions",
    "input_required",
    "input_rounds",
]

log = structlog.get_logger(__name__)

INPUT_ROUNDS_VERSION = "2026-07-28"  # from this protocol on, a tool call asks through InputRequiredResult


class WriteApproval(BaseModel):
    """The form a client shows before a write tool runs."""

    approve: bool = Field(description="Run this tool now?")


_SCHEMA = render_elicitation_schema(WriteApproval)


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


def _key(index: int) -> str:
    return f"approve-{index + 1}"


def input_required(pending: Pending) -> InputRequiredResult:
    """The 2026-07-28 answer to a call whose run waits: one question per call, and its reference."""
    requests = {
        _key(i): ElicitRequest(
            params=ElicitRequestFormParams(message=approval_question(call), requested_schema=_SCHEMA)
        )
        for i, call in enumerate(pending.calls)
    }
    return InputRequiredResult(input_requests=requests, request_state=pending.ref)  # type: ignore[arg-type]


def decisions_from(pending: Pending, responses: InputResponses | None) -> dict[str, Decision] | None:
    """The decisions a 2026-07-28 retry carries, or None when it does not answer every question."""
    decisions: dict[str, Decision] = {}
    for i, call in enumerate(pending.calls):
        answer = (responses or {}).get(_key(i))
        if not isinstance(answer, ElicitResult):
            return None
        decisions[call_key(call.name, call.arguments)] = decision(answer)
    return decisions


async def elicit_decisions(
    ctx: Context[Any, Any], calls: list[ToolCall], timeout_s: float, allow_writes: bool
) -> dict[str, Decision]:
    """Ask a handshake-era client's user about each call, mid-call; the config decides if that fails."""
    decisions: dict[str, Decision] = {}
    for call in calls:
        key = call_key(call.name, call.arguments)
        try:
            with anyio.fail_after(timeout_s):
                answer = await ctx.elicit(approval_question(call), WriteApproval)
        except TimeoutError:
            log.info("tool.approval.timeout", tool=call.name, seconds=timeout_s)
            decisions[key] = Decision(False, f"the user did not answer within {timeout_s:.0f}s")
            continue
        except Exception as exc:  # no back-channel on this connection after all
            log.info("tool.approval.unavailable", tool=call.name, error=type(exc).__name__)
            decisions[key] = (
                Decision(True, "serve.allow_writes = true")
                if allow_writes
                else Decision(
                    False,
                    f"this connection cannot carry the question ({type(exc).__name__}) and "
                    "serve.allow_writes is false",
                )
            )
            continue
        if answer.action == "accept":
            decisions[key] = decision(ElicitResult(action="accept", content={"approve": answer.data.approve}))
        else:
            decisions[key] = decision(ElicitResult(action=answer.action))
    return decisions
