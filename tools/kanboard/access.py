"""One way in to Kanboard for every tool: a client per call, errors as tool errors, a shared index.

`Access.session(tool)` opens a `KanboardClient` and a `Resolver` for one tool call, logs the call
(never its arguments' secrets), and turns every `KanboardError` into an MCP `ToolError` whose text
says what to do. `Access.index(resolver)` returns the whole-board `BoardIndex`, reused for
`index_ttl_s` seconds and dropped after any write, so a burst of tool calls reads the board once;
once stale it is refreshed (only changed tasks' details read again), and read in full every
`index_full_s` seconds.
It defines no tools (`reads`, `writes`) and renders nothing (`format`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import anyio
import httpx
import structlog
from mcp.server.mcpserver.exceptions import ToolError

from .client import KanboardClient
from .errors import KanboardError
from .index import BoardIndex
from .resolve import Resolver
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
        *,
        demo: bool,
        index_ttl_s: float = 20.0,
        index_full_s: float = 300.0,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.demo = demo
        self._ttl = index_ttl_s
        self._index: BoardIndex | None = None
        self._full_s = index_full_s
        self._built = 0.0
        self._read_in_full = 0.0
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def session(self, tool: str) -> AsyncIterator[Resolver]:
        """A resolver over a fresh client for one tool call; Kanboard errors become `ToolError`s."""
        started = time.perf_counter()
        try:
            async with KanboardClient(self.settings, self.transport) as kb:
                yield Resolver(kb)
        except KanboardError as exc:
            log.info("kanboard.tool", tool=tool, ok=False, error=type(exc).__name__)
            raise ToolError(str(exc)) from None
        log.info("kanboard.tool", tool=tool, ok=True, ms=round((time.perf_counter() - started) * 1000))

    @asynccontextmanager
    async def write(self, tool: str) -> AsyncIterator[Resolver]:
        """Like `session`, for a tool that changes the board: the cached index is dropped after it."""
        try:
            async with self.session(tool) as r:
                yield r
        finally:
            self._index = None

    async def index(self, r: Resolver) -> BoardIndex:
        """Every task with its text, read at most once per `index_ttl_s` seconds."""
        async with self._lock:
            fresh = self._index is not None and time.monotonic() - self._built < self._ttl
            if not fresh:
                started = time.perf_counter()
                full = self._index is None or time.monotonic() - self._read_in_full >= self._full_s
                self._index = await BoardIndex.load(
                    r.kb,
                    await r.projects(),
                    await r.users(),
                    await r.timezone(),
                    now(),
                    previous=None if full else self._index,
                )
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
