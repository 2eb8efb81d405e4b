"""Conversations kept between MCP `ask` calls: server-chosen ids, each owned by one caller.

A conversation is created by the server (a random 128-bit id) and belongs to the caller that
created it: an MCP connection (one streamable-HTTP session, or the stdio client), or, on the
stateless 2026-07-28 protocol where there is no connection, the holder of the bearer token. An id
the store did not issue, or issued to another owner, is refused with `UnknownSessionError`, the
same way in both cases.

Bounded four ways: `max_sessions` in all and `per_owner` per caller (the least recently used go
first, a caller's own before anyone else's), `ttl_s` of idleness, and bytes: one conversation's
history is cut to `max_session_bytes` (oldest turns first) and all of them together to
`max_bytes`. One question at a time per session (a lock each), so follow-ups see the answer before
them. Running the questions is `agent.serve.service`'s job.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from agent.loop import Agent, Session
from agent.messages import Message

__all__ = ["ServedSession", "SessionStore", "UnknownSessionError"]


class UnknownSessionError(LookupError):
    """A session id this caller was not given (expired, forgotten, another caller's, or made up)."""

    def __init__(self) -> None:
        super().__init__(
            "unknown session_id: it was not issued to this connection, or it expired; "
            "leave session_id out to start a new conversation, then pass back the session_id it returns"
        )


def _bytes(message: Message) -> int:
    calls = sum(
        len(json.dumps(c.arguments, ensure_ascii=False).encode()) + len(c.name) for c in message.tool_calls
    )
    return len(message.content.encode()) + calls + 16


@dataclass
class ServedSession:
    """One conversation, its id and owner, and the lock that keeps its questions in order."""

    id: str
    owner: str
    session: Session
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    last_used: float = 0.0
    size: int = 0  # bytes of its history, as of its last answer

    def measure(self) -> int:
        """The bytes of the history kept now."""
        self.size = sum(_bytes(m) for turn in self.session.turns for m in turn)
        return self.size


@dataclass
class SessionStore:
    """Conversations by id, bound to their owners, bounded in number, idle time and bytes."""

    agent: Agent
    max_sessions: int = 256
    per_owner: int = 32
    ttl_s: float = 3600.0
    max_turns: int = 6  # earlier turns each session keeps in its history
    max_session_bytes: int = 256 * 1024
    max_bytes: int = 64 * 1024 * 1024
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[str, ServedSession] = field(default_factory=OrderedDict, init=False, repr=False)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """The history bytes of every kept conversation."""
        return sum(s.size for s in self._items.values())

    def open(self, session_id: str | None, owner: str) -> ServedSession:
        """The caller's session `session_id`, or a new one when it is None.

        Raises:
            UnknownSessionError: `session_id` was not issued to `owner`, or has expired.
        """
        now = self.clock()
        self._expire(now)
        if session_id is None or not session_id.strip():
            return self._new(owner, now)
        served = self._items.get(session_id.strip())
        if served is None or served.owner != owner:
            raise UnknownSessionError()
        self._items.move_to_end(served.id)
        served.last_used = now
        return served

    def settle(self, served: ServedSession) -> None:
        """After an answer: cut `served` to its byte budget, then everyone to the store's."""
        turns = served.session.turns
        while turns and served.measure() > self.max_session_bytes:
            del turns[0]
        served.measure()
        for other in list(self._items.values()):  # least recently used first
            if self.bytes <= self.max_bytes:
                break
            if other is not served:
                del self._items[other.id]
        if self.bytes > self.max_bytes:
            turns.clear()
            served.measure()

    def _new(self, owner: str, now: float) -> ServedSession:
        mine = [s for s in self._items.values() if s.owner == owner]
        if len(mine) >= self.per_owner:
            del self._items[mine[0].id]  # this caller's least recently used
        while len(self._items) >= self.max_sessions:
            self._items.popitem(last=False)
        served = ServedSession(uuid.uuid4().hex, owner, Session(self.agent, max_turns=self.max_turns))
        served.last_used = now
        self._items[served.id] = served
        return served

    def _expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))  # least recently used first
            if now - oldest.last_used <= self.ttl_s:
                return
            del self._items[oldest.id]
