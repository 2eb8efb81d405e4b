"""Runs and calls waiting for the user's approval, kept as data in the `RunStore` between requests.

When a write needs the user's decision the run ends (`agent.loop`: `RunResult.paused`) and its queue
slot is freed; `PendingRuns.park` stores it under a fresh reference (`apv-` and 32 random hex
digits), bound to its owner (who asked: an MCP connection, or the HTTP caller's token and user) and
its conversation (an MCP session, or a chat's messages so far), and expiring after
`serve.approval_timeout_s`. The decision comes in a later request, possibly on another replica or
after a restart: `claim` finds it by reference, refuses it unless owner and conversation match, and
takes it from the store in one step, so it is used once. Asking the user and resuming the run are
the transports' and `agent.serve.service`'s business.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from pydantic import BaseModel, ValidationError

from agent.messages import ToolCall
from agent.serve.store import RunStore
from agent.trace import PausedRun

__all__ = ["REF_PATTERN", "NotPendingError", "Pending", "PendingRuns", "caller", "fingerprint"]

log = structlog.get_logger(__name__)

SPACE = "pending"
REF_PATTERN = re.compile(r"\bapv-[0-9a-f]{32}\b")
"""How a reference looks (in an answer a chat client sends back, or an MCP request_state)."""


class NotPendingError(LookupError):
    """No approval waits under this reference for this caller and conversation (or it expired)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            "this approval is not pending any more (answered already, not answered within "
            f"{timeout_s:.0f}s, or asked in another conversation); ask again"
        )


class Pending(BaseModel):
    """One waiting approval: a paused run (`ask`, a chat question) or one re-exported tool call."""

    ref: str
    owner: str  # who may decide: a hash of the caller's credentials, never the credentials
    conversation: str = ""  # what it is bound to: a chat's fingerprint, an MCP session id, or ""
    expires_at: float  # Unix seconds
    model: str | None = None  # the model id the question asked for
    session_id: str | None = None  # the served conversation the run belongs to
    paused: PausedRun | None = None
    call: ToolCall | None = None

    @property
    def calls(self) -> list[ToolCall]:
        """The calls that wait for a decision."""
        if self.paused is not None:
            return self.paused.pending
        return [self.call] if self.call is not None else []


def caller(token: str | None, user: str | None = None) -> str:
    """An owner id for an HTTP caller: a hash of its bearer token, and of the user it names."""
    digest = hashlib.sha256(f"{token or ''}\0{user or ''}".encode()).hexdigest()
    return f"http:{digest[:32]}"


def fingerprint(turns: Sequence[tuple[str, str]]) -> str:
    """A conversation's identity from its (role, text) turns: the same turns, the same fingerprint."""
    digest = hashlib.sha256()
    for role, text in turns:
        digest.update(f"{role}\0{text.strip()}\0".encode())
    return digest.hexdigest()


@dataclass
class PendingRuns:
    """Pending approvals in a `RunStore`: parked with a reference, claimed once."""

    store: RunStore
    timeout_s: float = 300.0
    clock: Callable[[], float] = field(default=time.time)

    async def park(
        self,
        *,
        owner: str,
        conversation: str = "",
        paused: PausedRun | None = None,
        call: ToolCall | None = None,
        model: str | None = None,
        session_id: str | None = None,
    ) -> Pending:
        """Store a run or a call that waits for a decision; the `Pending` names its reference."""
        pending = Pending(
            ref=f"apv-{secrets.token_hex(16)}",
            owner=owner,
            conversation=conversation,
            expires_at=self.clock() + self.timeout_s,
            model=model,
            session_id=session_id,
            paused=paused,
            call=call,
        )
        await self.store.put(SPACE, pending.ref, pending.model_dump_json(), self.timeout_s)
        log.info("approval.pending", ref=pending.ref[:12], tools=[c.name for c in pending.calls])
        return pending

    async def again(self, pending: Pending) -> None:
        """Put a claimed approval back until its own expiry (the decision did not come with it)."""
        left = pending.expires_at - self.clock()
        if left > 0:
            await self.store.put(SPACE, pending.ref, pending.model_dump_json(), left)

    async def claim(self, ref: str, owner: str, conversation: str = "") -> Pending:
        """The approval waiting under `ref`, taken from the store: nobody can claim it again.

        Raises:
            NotPendingError: none waits under `ref` (used, expired, never issued), or it belongs to
                another owner or conversation (then it stays, for its own).
        """
        raw = await self.store.get(SPACE, ref) if REF_PATTERN.fullmatch(ref) else None
        try:
            pending = None if raw is None else Pending.model_validate_json(raw)
        except ValidationError:
            pending = None
        if pending is None or pending.owner != owner or pending.conversation != conversation:
            log.info("approval.refused", ref=ref[:12], found=pending is not None)
            raise NotPendingError(self.timeout_s)
        if await self.store.take(SPACE, ref) is None or pending.expires_at <= self.clock():
            raise NotPendingError(self.timeout_s)  # another request took it first, or it just expired
        return pending
