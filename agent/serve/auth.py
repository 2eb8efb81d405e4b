"""Bearer-token auth for the HTTP server, and the rule that refuses to expose it without one.

`check_bind` is called before the server starts: binding anything but loopback requires
`serve.bearer_token`. `BearerAuth` is a plain ASGI middleware (so streaming and disconnects pass
through untouched) that compares the `Authorization: Bearer …` header in constant time on the
protected path prefixes. It never logs or echoes a token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from agent.exceptions import ConfigError

__all__ = ["MIN_TOKEN_LENGTH", "PROTECTED_PREFIXES", "BearerAuth", "check_bind", "is_loopback"]

PROTECTED_PREFIXES = ("/mcp", "/v1", "/metrics")
MIN_TOKEN_LENGTH = 24
"""The shortest bearer token accepted on an address other machines can reach."""


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a bearer token of `MIN_TOKEN_LENGTH` or more.

    Raises:
        ConfigError: `host` is reachable from other machines and the token is missing or short.
    """
    if is_loopback(host):
        return
    if not token:
        raise ConfigError(
            f"refusing to serve on {host}, which other machines can reach, without a bearer token: "
            'set serve.bearer_token (e.g. bearer_token = "${HOMELAB_AGENT_TOKEN}") or bind 127.0.0.1'
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"refusing to serve on {host} with a bearer token of {len(token)} characters: other machines "
            f"can reach it, so the token must have at least {MIN_TOKEN_LENGTH} characters "
            "(make one with: openssl rand -hex 32)"
        )


def _protected(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class BearerAuth:
    """ASGI middleware: 401 on protected paths unless the request carries the bearer token."""

    def __init__(self, app: ASGIApp, token: str | None, prefixes: Sequence[str] = PROTECTED_PREFIXES) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._prefixes = tuple(prefixes)

    def _authorized(self, scope: Scope) -> bool:
        if self._token is None:
            return True
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not _protected(scope["path"], self._prefixes)
            or self._authorized(scope)
        ):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "message": "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                    "type": "authentication_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="homelab-agent"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
