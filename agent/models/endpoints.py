"""Several servers behind one model entry, and bounded retries with backoff across them.

`Endpoints.call(send)` runs `send(endpoint)` on the least busy server that is up (ties go round
robin). A try that fails on the wire (connection refused or reset, the server gone mid-answer) or
with HTTP 429/502/503/504 marks that server down for a while (its `Retry-After` when it sends one,
else an exponential backoff with jitter) and the next try goes to another server at once, or, when
every server is down, waits for the first to come back. After `tries` tries or `total_s` seconds
the call ends in a `ModelError` naming the servers (without credentials) and the last failure.

Hand-written rather than tenacity: the retry decision here is "which server next, and how long is
each one down", which a per-request retry library does not model; the loop is twenty lines.

Not here: what is sent (`agent.models.openai_compat`); a timeout waiting for an answer is not
retried (the server was up and working; a second try would double the wait).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

import anyio
import httpx
import structlog

from agent.exceptions import ModelError
from homelab_common.redact import redact_url, redact_urls

__all__ = ["RETRY_STATUSES", "Endpoint", "Endpoints", "RetryPolicy", "ServerBusyError", "retry_after"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses that mean "not now" (busy, loading, a proxy without its backend), worth another try."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: at most `tries` tries within `total_s` seconds, backoff from `base_s`."""

    tries: int = 4
    total_s: float = 60.0
    base_s: float = 0.5  # the first wait; doubled per failure of the same server
    max_wait_s: float = 30.0  # the longest a server is left alone (Retry-After is capped to it)


class ServerBusyError(Exception):
    """A server answered a retryable status (raised by `send`, caught by `Endpoints.call`)."""

    def __init__(self, status: int, detail: str, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.retry_after_s = status, retry_after_s


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class Endpoint:
    """One server: its HTTP client, requests in flight, and until when it is left alone."""

    url: str
    client: httpx.AsyncClient
    busy: int = 0
    down_until: float = 0.0  # time.monotonic()
    failures: int = 0  # in a row
    last_error: str = ""

    @property
    def where(self) -> str:
        """The URL as shown in messages: no credentials."""
        return redact_url(self.url)


@dataclass
class Endpoints:
    """The servers of one model entry, and the policy for trying them."""

    endpoints: Sequence[Endpoint]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _turns: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def where(self) -> str:
        """Every server's URL, for messages."""
        return ", ".join(e.where for e in self.endpoints)

    def pick(self, now: float) -> Endpoint:
        """The least busy server that is up (round robin among equals); else the first back."""
        up = [e for e in self.endpoints if e.down_until <= now]
        if not up:
            return min(self.endpoints, key=lambda e: e.down_until)
        turn = next(self._turns)
        n = len(self.endpoints)
        order = {id(e): (i - turn) % n for i, e in enumerate(self.endpoints)}
        return min(up, key=lambda e: (e.busy, order[id(e)]))

    def _backoff(self, endpoint: Endpoint, hinted: float | None) -> float:
        policy = self.policy
        if hinted is not None:
            return min(hinted, policy.max_wait_s)
        wait = policy.base_s * 2 ** (endpoint.failures - 1)
        return float(min(wait * random.uniform(0.75, 1.25), policy.max_wait_s))

    async def call(self, send: Callable[[Endpoint], Awaitable[T]], *, retry: Callable[[], bool]) -> T:
        """`send` on a server, and again elsewhere or later while it fails in a retryable way and
        `retry()` says a new try is still safe (nothing of the answer was forwarded yet)."""
        policy = self.policy
        started = time.monotonic()
        deadline = started + policy.total_s
        tries = 0
        while True:
            now = time.monotonic()
            endpoint = self.pick(now)
            if endpoint.down_until > now:
                await anyio.sleep(endpoint.down_until - now)
            tries += 1
            endpoint.busy += 1
            try:
                result = await send(endpoint)
            except ServerBusyError as exc:
                error, hinted, reached = str(exc), exc.retry_after_s, True
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout):
                    raise ModelError(
                        f"the model server at {endpoint.where} did not answer in time: {exc!r}"
                    ) from None
                error, hinted, reached = redact_urls(repr(exc)), None, False
            else:
                endpoint.failures, endpoint.last_error = 0, ""
                return result
            finally:
                endpoint.busy -= 1
            endpoint.failures += 1
            endpoint.last_error = error
            wait = self._backoff(endpoint, hinted)
            endpoint.down_until = time.monotonic() + wait
            soonest = min(e.down_until for e in self.endpoints) - time.monotonic()
            spent = time.monotonic() - started
            if tries >= policy.tries or not retry() or time.monotonic() + max(0.0, soonest) > deadline:
                servers = "server" if len(self.endpoints) == 1 else "servers"
                what = (
                    f"the model {servers} at {self.where} answered {error[:300]}"
                    if reached
                    else f"cannot reach the model {servers} at {self.where}: {error[:300]}"
                )
                raise ModelError(
                    f"{what} ({tries} {'try' if tries == 1 else 'tries'} in {spent:.1f} s, the last "
                    f"on {endpoint.where}); start the server or check the URL, or raise the model's "
                    "retry_tries / retry_total_s"
                ) from None
            log.warning(
                "model.retry", server=endpoint.where, error=error[:200], tries=tries, down_s=round(wait, 2)
            )
