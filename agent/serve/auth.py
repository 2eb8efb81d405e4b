"""Bearer-token auth for the HTTP server, and the rule that refuses to expose it without one.

`check_bind` is called before the server starts: binding anything but loopback requires
`serve.bearer_token`. `BearerAuth` is a plain ASGI middleware (so streaming and disconnects pass
through untouched) that compares the `Authorization: Bearer …` header in constant time on the
protected path prefixes. It never logs or echoes a token.

The token is static: this server is no OAuth resource server (it has no authorization server to
name), so it publishes no OAuth metadata. Its 401 says in `WWW-Authenticate` what to send, and
`oauth_not_used` answers the well-known OAuth discovery paths with a 404 that says the same, so a
client that falls back to OAuth fails with a reason instead of a bare 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Sequence

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.exceptions import ConfigError

log = structlog.get_logger(__name__)

__all__ = [
    "MIN_TOKEN_LENGTH",
    "PROTECTED_PREFIXES",
    "BearerAuth",
    "check_bind",
    "is_loopback",
    "oauth_not_used",
]

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


_SEND = "send 'Authorization: Bearer <token>'"
_MISSING = f"this server wants its static bearer token (serve.bearer_token, not OAuth): {_SEND}"
_WRONG = f"the bearer token is not this server's (serve.bearer_token): {_SEND}"


def _protected(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class BearerAuth:
    """ASGI middleware: 401 on protected paths unless the request carries the bearer token."""

    def __init__(self, app: ASGIApp, token: str | None, prefixes: Sequence[str] = PROTECTED_PREFIXES) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._prefixes = tuple(prefixes)

    def _check(self, scope: Scope) -> str | None:
        """None when the request may pass; else what is wrong: "missing" or "wrong"."""
        if self._token is None:
            return None
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                scheme, _, given = value.partition(b" ")
                ok = scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)
                return None if ok else "wrong"
        return "missing"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = None
        if scope["type"] == "http" and _protected(scope["path"], self._prefixes):
            problem = self._check(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        message = _MISSING if problem == "missing" else _WRONG
        log.info("http.refused", path=scope["path"], status=401, code="invalid_api_key", token=problem)
        error = 'error="invalid_token", ' if problem == "wrong" else ""  # RFC 6750: none when absent
        challenge = f'Bearer realm="homelab-agent", {error}error_description="{message}"'
        body = json.dumps(
            {"error": {"message": message, "type": "authentication_error", "code": "invalid_api_key"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


OAUTH_NOT_USED = (
    "this server does not use OAuth: it has no authorization server, only a static bearer token "
    "(serve.bearer_token). Configure your MCP client to send the header 'Authorization: Bearer <token>' "
    "(docs/serving.md shows how for common clients)."
)


async def oauth_not_used(request: Request) -> JSONResponse:
    """GET /.well-known/oauth-* (no auth): a 404 that says to send the static token instead."""
    body = {"error": {"message": OAUTH_NOT_USED, "type": "not_found_error", "code": "oauth_not_used"}}
    return JSONResponse(body, status_code=404)
