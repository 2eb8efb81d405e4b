"""A fair (FIFO) queue in front of the model: `concurrency` runs at once, `queue_size` waiting.

Every request first `reserve()`s a `Ticket`, which fails at once with `QueueFullError` when the
waiting line is full (the HTTP layer turns that into a 429 with Retry-After). Entering the ticket
waits for its turn; leaving it hands the slot straight to the oldest waiter, so nobody overtakes.
A ticket cancelled while it waits leaves the line; one cancelled while it runs frees its slot.
This module knows nothing about HTTP, MCP or the agent.
"""

from __future__ import annotations

import math
import time
from collections import deque
from types import TracebackType

import anyio

__all__ = ["FairQueue", "QueueFullError", "Ticket"]


class QueueFullError(Exception):
    """Too many requests are waiting; try again after `retry_after` seconds."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(
            f"the server is busy: {waiting} requests are already waiting for the model; "
            f"retry in {retry_after}s"
        )
        self.waiting = waiting
        self.retry_after = retry_after


class Ticket:
    """One request's place in the queue: `async with ticket:` waits for a slot and holds it."""

    def __init__(self, queue: FairQueue, granted: bool) -> None:
        self._queue = queue
        self._granted = granted
        self._event = anyio.Event()
        self._done = False
        self._started = 0.0
        if granted:
            self._event.set()

    def _grant(self) -> None:
        self._granted = True
        self._event.set()

    async def __aenter__(self) -> Ticket:
        try:
            await self._event.wait()
        except BaseException:
            self.release()
            raise
        self._started = time.monotonic()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._started:
            self._queue._record(time.monotonic() - self._started)
        self.release()

    def release(self) -> None:
        """Leave the line, or free the slot; safe to call more than once."""
        if self._done:
            return
        self._done = True
        if self._granted:
            self._queue._hand_over()
        else:
            self._queue._waiting.remove(self)


class FairQueue:
    """FIFO admission: `concurrency` tickets hold slots, at most `max_waiting` wait for one."""

    def __init__(self, concurrency: int = 1, max_waiting: int = 16) -> None:
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self._active = 0
        self._waiting: deque[Ticket] = deque()
        self._mean_s = 1.0  # running mean of how long a slot is held, for Retry-After

    @property
    def active(self) -> int:
        """Requests holding a slot now."""
        return self._active

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        return len(self._waiting)

    @property
    def full(self) -> bool:
        """Whether `reserve()` would fail now."""
        return self._active >= self.concurrency and len(self._waiting) >= self.max_waiting

    def retry_after(self) -> int:
        """Seconds until a place is likely to free up (at least 1)."""
        return max(1, math.ceil(self._mean_s * (len(self._waiting) + 1) / self.concurrency))

    def reserve(self) -> Ticket:
        """A place in line, or `QueueFullError` at once when the line is full."""
        if self.full:
            raise QueueFullError(len(self._waiting), self.retry_after())
        if self._active < self.concurrency and not self._waiting:
            self._active += 1
            return Ticket(self, granted=True)
        ticket = Ticket(self, granted=False)
        self._waiting.append(ticket)
        return ticket

    def _hand_over(self) -> None:
        if self._waiting:
            self._waiting.popleft()._grant()
        else:
            self._active -= 1

    def _record(self, seconds: float) -> None:
        self._mean_s = 0.8 * self._mean_s + 0.2 * seconds
