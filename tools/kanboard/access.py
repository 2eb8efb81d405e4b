"""One way in to Kanboard for every tool: a client per call, errors as tool errors, a shared index.

`Access.session(tool)` opens a `KanboardClient` for one tool call, logs the call (never its
arguments' secrets), and turns every `KanboardError` into an MCP `ToolError` whose text says what
to do. `Access.index(kb)` returns the whole-board `BoardIndex`, where every tool finds what it
names: reused for `index_ttl_s` seconds and dropped after any write, so a burst of tool calls
reads the board once; once stale it is refreshed (only changed tasks' details read again), and
read in full every `index_full_s` seconds. `Access.task(kb, text)` finds a task, reading the
board again for an id the index does not hold yet (a task made since it was read).
It defines no tools (`reads`, `writes`), matches no names (`index`) and renders nothing (`format`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import anyio
import httpx
import structlog

from homelab_common.servers import tool_call

from .client import KanboardClient
from .errors import KanboardError, KanboardNotFoundError
from .index import BoardIndex, Entry
from .settings import KanboardSettings

__all__ = ["Access", "now"]

log = structlog.get_logger(__name__)


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class Access:
    """Kanboard as the tools reach it: settings, transport, and the cached board index."""

    def __init__(
        self,
        settings: KanboardSettings,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._ttl = settings.index_ttl_s
        self._index: BoardIndex | None = None
        self._full_s = settings.index_full_s
        self._built = 0.0
        self._read_in_full = 0.0
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def session(self, tool: str) -> AsyncIterator[KanboardClient]:
        """A fresh client for one tool call; Kanboard errors become `ToolError`s."""
        client = KanboardClient(self.settings, self.transport)
        async with tool_call(client, tool, log=log, event="kanboard.tool", errors=KanboardError) as kb:
            yield kb

    @asynccontextmanager
    async def write(self, tool: str) -> AsyncIterator[KanboardClient]:
        """Like `session`, for a tool that changes the board: the cached index is dropped after it."""
        try:
            async with self.session(tool) as kb:
                yield kb
        finally:
            self._index = None

    async def index(self, kb: KanboardClient, *, again: bool = False) -> BoardIndex:
        """Every task with its text, read at most once per `index_ttl_s` seconds (`again`: now)."""
        async with self._lock:
            fresh = self._index is not None and time.monotonic() - self._built < self._ttl
            if again or not fresh:
                started = time.perf_counter()
                full = self._index is None or time.monotonic() - self._read_in_full >= self._full_s
                self._index = await BoardIndex.read(kb, now(), previous=None if full else self._index)
                self._built = time.monotonic()
                if full:
                    self._read_in_full = self._built
                log.info(
                    "kanboard.index",
                    tasks=len(self._index.entries),
                    reused=self._index.reused,
                    full=full,
                    ms=round((time.perf_counter() - started) * 1000),
                )
            assert self._index is not None
            self._index.now = now()
            return self._index

    async def task(self, kb: KanboardClient, text: str) -> Entry:
        """The task `text` names (`BoardIndex.task`); an id the index lacks reads the board again."""
        try:
            return (await self.index(kb)).task(text)
        except KanboardNotFoundError:
            if not text.strip().lstrip("#").strip().isdigit():
                raise
        return (await self.index(kb, again=True)).task(text)
