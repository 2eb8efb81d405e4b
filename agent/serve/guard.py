"""The gate every HTTP request passes first: who may send it, from which page, in what shape, how big.

`RequestGuard` is a plain ASGI middleware in front of every route (the OpenAI API, MCP, health,
metrics), on every bind. In order it refuses, with an OpenAI-style JSON error:

- a `Host` header this server does not answer to (421): DNS rebinding, where a web page's own
  domain is pointed at this machine. Allowed: IP literals, `localhost`, this machine's own names
  and `serve.allowed_hosts` (`"*"` turns the check off, e.g. behind a proxy that rewrites Host);
- an `Origin` header from a web page (403): allowed are only pages on loopback and
  `serve.allowed_origins`; API clients and SDKs send no Origin;
- a request body that is not `application/json` (415): what a cross-site form or `fetch` can
  send without a CORS preflight;
- a body over `serve.max_body_bytes` (413), by its Content-Length or, without one, as it arrives;
  the body is read whole (up to the limit) before any route parses it.

It does not authenticate (see `agent.serve.auth`) and knows nothing about the routes behind it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HostPolicy", "RequestGuard", "error_body", "machine_names"]

log = structlog.get_logger(__name__)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def error_body(message: str, kind: str, code: str) -> bytes:
    """An OpenAI-style error body (the shape every client of this server understands)."""
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()


def machine_names() -> set[str]:
    """The names this machine calls itself (its hostname, short and `.local`), lowercased.

    No DNS lookup: the FQDN would need one, which can hang on a box without a resolver.
    """
    name = socket.gethostname().lower()
    short = name.split(".")[0]
    return {n for n in (name, short, f"{short}.local") if n and n != ".local"}


def _host_only(value: str) -> str:
    """`example.lan:8765` -> `example.lan`; `[::1]:8765` -> `::1`; lowercased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """Which `Host` and `Origin` headers a server accepts."""

    hosts: frozenset[str]  # extra names (exact, or "*.suffix"); "*" accepts any Host
    origins: frozenset[str]  # extra origins, e.g. "https://chat.lan" (scheme://host[:port])

    @classmethod
    def build(cls, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()) -> HostPolicy:
        """The policy for the configured extras, plus this machine's own names."""
        hosts = {h.strip().lower() for h in allowed_hosts if h.strip()} | machine_names()
        origins = {o.strip().lower().rstrip("/") for o in allowed_origins if o.strip()}
        return cls(frozenset(hosts), frozenset(origins))

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's `Host` header names this server and not some web page's domain."""
        if "*" in self.hosts:
            return True
        if not header:
            return False
        host = _host_only(header)
        if host in _LOOPBACK_NAMES or host.endswith(".localhost") or _is_ip(host) or host in self.hosts:
            return True
        return any(p.startswith("*.") and host.endswith(p[1:]) for p in self.hosts)

    def origin_allowed(self, header: str | None) -> bool:
        """Whether a request's `Origin` (absent for API clients) is a page allowed to call us."""
        if header is None:
            return True
        origin = header.strip().lower().rstrip("/")
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, file://) and anything odd
        return parts.hostname in _LOOPBACK_NAMES


class _TooLargeError(Exception):
    pass


class RequestGuard:
    """ASGI middleware: refuse rebinding, cross-site, non-JSON and oversized requests."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, max_body_bytes: int) -> None:
        self.app = app
        self.policy = policy
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message, code = refusal
            log.info("http.refused", path=scope["path"], status=status, code=code)
            await _respond(send, status, message, code)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            replay = await self._read_body(receive)
        except _TooLargeError:
            log.info("http.refused", path=scope["path"], status=413, code="body_too_large")
            await _respond(send, 413, self._too_large_message(), "body_too_large")
            return
        await self.app(scope, replay, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str] | None:
        host = headers.get("host")
        if not self.policy.host_allowed(host):
            return (
                421,
                f"this server does not answer to the host name {host!r}; if that is how your clients "
                "reach it (e.g. through a reverse proxy), add it to serve.allowed_hosts",
                "host_not_allowed",
            )
        origin = headers.get("origin")
        if not self.policy.origin_allowed(origin):
            return (
                403,
                f"requests from web pages at {origin!r} are refused (cross-site); "
                "to let a browser app call this server, add its origin to serve.allowed_origins",
                "origin_not_allowed",
            )
        if scope["method"] in _BODY_METHODS:
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return (
                    415,
                    f"send the request body as JSON with 'Content-Type: application/json' "
                    f"(got {content_type or 'no content type'!r})",
                    "unsupported_media_type",
                )
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                return 413, self._too_large_message(), "body_too_large"
        return None

    def _too_large_message(self) -> str:
        return (
            f"the request body is larger than {self.max_body_bytes} bytes (serve.max_body_bytes); "
            "shorten the conversation or start a new one"
        )

    async def _read_body(self, receive: Receive) -> Receive:
        """Read the whole body (at most the limit), and a `receive` that replays it."""
        chunks: list[bytes] = []
        size = 0
        pending: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)  # the client went away mid-body
                break
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                raise _TooLargeError
            chunks.append(body)
            if not message.get("more_body", False):
                break
        pending.insert(0, {"type": "http.request", "body": b"".join(chunks), "more_body": False})

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        return replay


async def _respond(send: Send, status: int, message: str, code: str) -> None:
    body = error_body(message, "invalid_request_error", code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
