"""Whether the Docker Engine answers at all, checked at most once per TTL.

A Docker server whose engine is not there (no socket, nothing listening, no permission) should
not offer tools that can only fail: a small model handed them calls them for questions about
other things, and answers with their error text. `Reachability.problem()` pings the engine
(`DockerClient.ping`) and returns why it cannot be used, or None; the answer is kept for
`DockerSettings.reachable_ttl_s` seconds, so listing the tools for every question costs one ping
per TTL. An engine that answers but refuses or fails a request counts as reachable: that is a
tool's error to report, not a reason to hide the tools. It defines no tools (`server`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import httpx
import structlog

from .client import DockerClient
from .errors import DockerError, DockerPermissionError, DockerUnreachableError
from .settings import DockerSettings

__all__ = ["Reachability"]

log = structlog.get_logger(__name__)


class Reachability:
    """The engine's reachability, cached for `settings.reachable_ttl_s` seconds."""

    def __init__(
        self,
        settings: DockerSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._clock = clock
        self._checked: float | None = None
        self._problem: str | None = None
        self._lock = anyio.Lock()

    async def problem(self) -> str | None:
        """Why the engine cannot be used now ("No Docker socket at ..."), or None when it answers."""
        async with self._lock:
            now = self._clock()
            if self._checked is not None and now - self._checked < self._settings.reachable_ttl_s:
                return self._problem
            try:
                async with DockerClient(self._settings, self._transport) as docker:
                    await docker.ping()
            except (DockerUnreachableError, DockerPermissionError) as exc:
                self._problem = str(exc)
            except DockerError:
                self._problem = None  # it answered: a proxy that refuses /_ping is still an engine
            else:
                self._problem = None
            self._checked = self._clock()
            log.info("docker.reachable", reachable=self._problem is None)
            return self._problem
