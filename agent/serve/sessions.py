"""Conversations kept between MCP `ask` calls: session ids mapped to `agent.loop.Session`s.

Bounded two ways: at most `max_sessions` (the least recently used goes first) and `ttl_s` of
idleness. An id the store does not know (new, or expired) starts a fresh conversation under that id,
so clients may choose their own ids. One question at a time per session (a lock each), so follow-ups
see the answer before them. Running the questions is `agent.serve.service`'s job.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from agent.loop import Agent, Session

__all__ = ["ServedSession", "SessionStore"]

MAX_ID_LENGTH = 128


@dataclass
class ServedSession:
    """One conversation, its id, and the lock that keeps its questions in order."""

    id: str
    session: Session
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    last_used: float = 0.0


@dataclass
class SessionStore:
    """An LRU of conversations with an idle timeout."""

    agent: Agent
    max_sessions: int = 256
    ttl_s: float = 3600.0
    max_turns: int = 6  # earlier turns each session keeps in its history
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[str, ServedSession] = field(default_factory=OrderedDict, init=False, repr=False)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, session_id: str | None = None) -> ServedSession:
        """The session named `session_id`, or a new one (with a fresh id when none is given)."""
        now = self.clock()
        self._expire(now)
        sid = (session_id or "").strip()[:MAX_ID_LENGTH] or uuid.uuid4().hex
        served = self._items.get(sid)
        if served is None:
            served = ServedSession(sid, Session(self.agent, max_turns=self.max_turns))
            self._items[sid] = served
            while len(self._items) > self.max_sessions:
                self._items.popitem(last=False)
        self._items.move_to_end(sid)
        served.last_used = now
        return served

    def _expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))  # least recently used first
            if now - oldest.last_used <= self.ttl_s:
                return
            del self._items[oldest.id]
