"""Conversations kept between MCP `ask` calls: server-chosen ids, each owned by one caller.

A conversation is created by the server (a random 128-bit id) and belongs to the caller that
created it: an MCP connection (one streamable-HTTP session, or the stdio client), or, on the
stateless 2026-07-28 protocol where there is no connection, the holder of the bearer token. An id
the store did not issue, or issued to another owner, is refused with `UnknownSessionError`, the
same way in both cases.

Each conversation is kept in the `RunStore` (SQLite by default), so it outlives a restart and is
found by any replica that shares the store; the bounds below hold per process.

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
from pydantic import BaseModel, ValidationError

from agent.loop import Agent, Session
from agent.messages import Message
from agent.serve.store import RunStore, SQLiteRunStore

__all__ = ["ServedSession", "SessionStore", "UnknownSessionError"]


class UnknownSessionError(LookupError):
    """A session id this caller was not given (expired, forgotten, another caller's, or made up)."""

    def __init__(self) -> None:
        super().__init__(
            "unknown session_id: it was not issued to this connection, or it expired; "
            "leave session_id out to start a new conversation, then pass back the session_id it returns"
        )


SPACE = "conversation"


class _Stored(BaseModel):
    owner: str
    turns: list[list[Message]]


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
    store: RunStore = field(default_factory=SQLiteRunStore)
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

    async def open(self, session_id: str | None, owner: str) -> ServedSession:
        """The caller's session `session_id` as the store has it now, or a new one when it is None.

        Raises:
            UnknownSessionError: `session_id` was not issued to `owner`, or has expired.
        """
        now = self.clock()
        await self._expire(now)
        if session_id is None or not session_id.strip():
            return await self._new(owner, now)
        sid = session_id.strip()
        served = self._items.get(sid)
        if served is not None and served.owner != owner:
            raise UnknownSessionError()
        stored = await self._load(sid)  # the store's copy: another replica may have added turns
        if stored is None or stored.owner != owner:
            if served is not None:
                del self._items[sid]
            raise UnknownSessionError()
        if served is None:
            served = ServedSession(sid, owner, Session(self.agent, max_turns=self.max_turns))
            await self._make_room(owner)
            self._items[sid] = served
        if not served.lock.locked():  # a question running in this process has the newest turns
            served.session.turns = stored.turns
        served.measure()
        self._items.move_to_end(sid)
        served.last_used = now
        return served

    async def _load(self, sid: str) -> _Stored | None:
        raw = await self.store.get(SPACE, sid)
        try:
            return None if raw is None else _Stored.model_validate_json(raw)
        except ValidationError:
            return None

    async def _save(self, served: ServedSession) -> None:
        body = _Stored(owner=served.owner, turns=served.session.turns).model_dump_json()
        await self.store.put(SPACE, served.id, body, self.ttl_s)

    async def _forget(self, sid: str) -> None:
        self._items.pop(sid, None)
        await self.store.delete(SPACE, sid)

    async def settle(self, served: ServedSession) -> None:
        """After an answer: cut `served` to its byte budget, then everyone to the store's; save it."""
        turns = served.session.turns
        while turns and served.measure() > self.max_session_bytes:
            del turns[0]
        served.measure()
        for other in list(self._items.values()):  # least recently used first
            if self.bytes <= self.max_bytes:
                break
            if other is not served:
                await self._forget(other.id)
        if self.bytes > self.max_bytes:
            turns.clear()
            served.measure()
        if served.id in self._items:
            await self._save(served)

    async def _make_room(self, owner: str) -> None:
        mine = [s for s in self._items.values() if s.owner == owner]
        if len(mine) >= self.per_owner:
            await self._forget(mine[0].id)  # this caller's least recently used
        while len(self._items) >= self.max_sessions:
            await self._forget(next(iter(self._items)))

    async def _new(self, owner: str, now: float) -> ServedSession:
        await self._make_room(owner)
        served = ServedSession(uuid.uuid4().hex, owner, Session(self.agent, max_turns=self.max_turns))
        served.last_used = now
        self._items[served.id] = served
        await self._save(served)
        return served

    async def _expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))  # least recently used first
            if now - oldest.last_used <= self.ttl_s:
                return
            await self._forget(oldest.id)
