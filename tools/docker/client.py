"""An async, read-only client for the Docker Engine API: the only module that speaks to Docker.

Every request is a GET (the class has no other verb), over the unix socket or to a `tcp://`
socket proxy, on unversioned paths so any Engine version answers in its own API version.
Connection failures become one-line errors that say what to do (no socket, permission denied,
nothing listening, a proxy's 403). Log streams are demultiplexed, and read and kept up to byte limits.
It does not resolve names, redact or format text; that is `resolve`, `homelab_common` and `format`.
"""

from __future__ import annotations

import contextlib
import errno
import time
from datetime import datetime
from typing import Any

import anyio
import httpx
import structlog

from homelab_common.servers import HttpClient

from .errors import (
    DockerAPIError,
    DockerError,
    DockerForbiddenError,
    DockerNotFoundError,
    DockerPermissionError,
    DockerUnreachableError,
)
from .models import Container, Image, Usage, parse_time
from .settings import DockerSettings

__all__ = ["MAX_LOG_BYTES", "MAX_READ_BYTES", "DockerClient", "LogLine"]

log = structlog.get_logger(__name__)

MAX_LOG_BYTES = 256 * 1024  # the most log text kept from one answer (its newest end)
MAX_READ_BYTES = 16 * 1024 * 1024  # the most read of one log answer, whatever `tail` says
_PROXY_SECTIONS = {"containers": "CONTAINERS", "images": "IMAGES", "info": "INFO", "version": "VERSION"}

LogLine = tuple[datetime | None, str]
"""A log line: when Docker received it, and its text."""


class DockerClient(HttpClient):
    """One connection to a Docker Engine; use as `async with DockerClient(settings) as docker:`."""

    def __init__(self, settings: DockerSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        if transport is None and settings.socket_path is not None:
            transport = httpx.AsyncHTTPTransport(uds=settings.socket_path)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            transport=transport,
            timeout=settings.timeout,
            headers={"User-Agent": "homelab-agent-docker"},
        )

    def __repr__(self) -> str:
        return f"DockerClient(host={self._settings.host!r})"

    # Reads ---------------------------------------------------------------------------------------

    async def containers(self) -> list[Container]:
        """Every container, running or not, each inspected in full, in `docker ps -a` order."""
        summaries = await self.get_json("/containers/json", all="1")
        ids = [str(s["Id"]) for s in summaries if isinstance(s, dict) and "Id" in s]
        found: dict[str, Container] = {}

        async def inspect(container_id: str) -> None:
            with contextlib.suppress(DockerNotFoundError):  # removed since the list was taken
                found[container_id] = await self.container(container_id)

        async with anyio.create_task_group() as tg:
            for container_id in ids:
                tg.start_soon(inspect, container_id)
        return [found[i] for i in ids if i in found]

    async def container(self, container_id: str) -> Container:
        """One container in full."""
        return Container.from_inspect(await self.get_json(f"/containers/{container_id}/json"))

    async def images(self, image_ids: set[str]) -> dict[str, Image]:
        """The images with these ids, inspected (their build date and default environment)."""
        found: dict[str, Image] = {}

        async def inspect(image_id: str) -> None:
            with contextlib.suppress(DockerNotFoundError):  # removed while a container still uses it
                found[image_id] = Image.from_inspect(await self.get_json(f"/images/{image_id}/json"))

        async with anyio.create_task_group() as tg:
            for image_id in sorted(i for i in image_ids if i):
                tg.start_soon(inspect, image_id)
        return found

    async def usage(self, container_id: str) -> Usage:
        """A CPU and memory sample of a running container (Docker takes about a second)."""
        return Usage.from_stats(await self.get_json(f"/containers/{container_id}/stats", stream="false"))

    async def logs(self, container: Container, lines: int) -> list[LogLine]:
        """The last `lines` lines of stdout and stderr, oldest first.

        At most MAX_READ_BYTES are read and the last MAX_LOG_BYTES of the text kept, so one huge line
        cannot flood memory or the answer.
        """
        params = {"stdout": "1", "stderr": "1", "timestamps": "1", "tail": str(lines)}
        path = f"/containers/{container.id}/logs"
        reader = _LogReader(multiplexed=not container.tty)
        started = time.perf_counter()
        try:
            async with self._http.stream("GET", path, params=params) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._status_error(response, path)
                async for chunk in response.aiter_bytes():
                    if not reader.feed(chunk):
                        break
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        log.debug("docker.get", path=path, bytes=reader.read, ms=_ms(started))
        text = reader.text()
        return [_timestamped(line) for line in text.splitlines() if line]

    async def ping(self) -> None:
        """Check that an engine answers (GET /_ping, which socket proxies allow); raises `DockerError`."""
        started = time.perf_counter()
        try:
            response = await self._http.get("/_ping")
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        log.debug("docker.get", path="/_ping", status=response.status_code, ms=_ms(started))
        if response.status_code != 200:
            raise self._status_error(response, "/_ping")

    async def get_json(self, path: str, **params: str) -> Any:
        """GET `path` and return its JSON, raising `DockerError`s."""
        started = time.perf_counter()
        try:
            response = await self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        log.debug("docker.get", path=path, status=response.status_code, ms=_ms(started))
        if response.status_code != 200:
            raise self._status_error(response, path)
        try:
            return response.json()
        except ValueError:
            raise DockerUnreachableError(
                f"{self._settings.where} did not answer {path} with JSON: is DOCKER_HOST a Docker Engine "
                "or a socket proxy?"
            ) from None

    # Errors --------------------------------------------------------------------------------------

    def _status_error(self, response: httpx.Response, path: str) -> DockerError:
        message = _message(response)
        if response.status_code == 404:
            return DockerNotFoundError(f"Docker has no such object ({path}): {message}")
        if response.status_code in {401, 403}:
            section = _PROXY_SECTIONS.get(path.strip("/").split("/")[0], path)
            return DockerForbiddenError(
                f"{self._settings.where} refused GET {path} (HTTP {response.status_code}): if it is a socket "
                f"proxy, allow reading {section.lower()} ({section}=1)"
            )
        return DockerAPIError(f"Docker answered HTTP {response.status_code} to GET {path}: {message}")

    def _unreachable(self, exc: httpx.TransportError) -> DockerError:
        where, path = self._settings.where, self._settings.socket_path
        code = _errno(exc)
        if isinstance(exc, httpx.TimeoutException):
            return DockerUnreachableError(
                f"Docker at {where} did not answer within {self._settings.timeout:g} s: is it overloaded?"
            )
        if path is not None and code == errno.ENOENT:
            return DockerUnreachableError(
                f"No Docker socket at {path}: is Docker running here? Otherwise set DOCKER_HOST, "
                "e.g. tcp://docker-proxy:2375 for a socket proxy"
            )
        if code in {errno.EACCES, errno.EPERM}:
            return DockerPermissionError(
                f"Permission denied opening the Docker socket {path or where}: run as a member of the docker "
                "group, or set DOCKER_HOST to a read-only socket proxy (tcp://docker-proxy:2375)"
            )
        if code == errno.ECONNREFUSED:
            return DockerUnreachableError(
                f"Nothing listens at {where}: is the Docker daemon (or the socket proxy) running?"
            )
        reason = str(exc).strip() or type(exc).__name__
        return DockerUnreachableError(f"Cannot reach Docker at {where}: {reason}")


def _errno(exc: BaseException) -> int | None:
    """The OS error number somewhere in the exception's chain (httpx wraps the OSError twice)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    return str(body.get("message", "")) if isinstance(body, dict) else str(body)[:200]


class _LogReader:
    """Docker's log stream, demultiplexed (8-byte frame headers unless the container has a TTY),
    keeping the last MAX_LOG_BYTES of text."""

    def __init__(self, multiplexed: bool) -> None:
        self._multiplexed = multiplexed
        self._pending = bytearray()
        self._text = bytearray()
        self._cut = False
        self.read = 0

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; False once MAX_READ_BYTES have been read."""
        self.read += len(chunk)
        if not self._multiplexed:
            self._text += chunk
        else:
            self._pending += chunk
            while len(self._pending) >= 8:
                size = int.from_bytes(self._pending[4:8], "big")
                if len(self._pending) < 8 + size:
                    break
                self._text += self._pending[8 : 8 + size]
                del self._pending[: 8 + size]
        if len(self._text) > MAX_LOG_BYTES:
            del self._text[: len(self._text) - MAX_LOG_BYTES]
            self._cut = True
        return self.read < MAX_READ_BYTES

    def text(self) -> str:
        """What was kept, as text; a first line cut by the window is dropped."""
        text = bytes(self._text).decode("utf-8", "replace")
        if self._cut:
            text = text.partition("\n")[2]
        return text


def _timestamped(line: str) -> tuple[datetime | None, str]:
    stamp, _, text = line.partition(" ")
    when = parse_time(stamp)
    return (when, text) if when is not None else (None, line)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
