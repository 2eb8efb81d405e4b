"""The one HTTP app: streamable-HTTP MCP at `/mcp`, the OpenAI API at `/v1`, `/healthz`, `/metrics`.

`build_app` assembles the Starlette app around a `Service`: request metrics, then the request guard
(Host, Origin, content type, body size: `agent.serve.guard`), then bearer auth, all plain ASGI
middleware so streams and disconnects pass straight through. `serve_http` runs it with uvicorn after
`check_bind` has made sure an exposed server has a token. The endpoints themselves live in
`agent.serve.mcp_server` and `agent.serve.openai_api`.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import structlog
import uvicorn
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.server import HANDLED_SIGNALS

from agent.exceptions import ConfigError
from agent.serve.auth import BearerAuth, check_bind, oauth_not_used
from agent.serve.guard import HostPolicy, RequestGuard
from agent.serve.mcp_server import build_mcp_server
from agent.serve.metrics import CONTENT_TYPE_LATEST, Metrics
from agent.serve.openai_api import openai_routes
from agent.serve.service import Service
from homelab_common.redact import redact_urls

__all__ = ["build_app", "http_server", "listen", "serve_http"]

log = structlog.get_logger(__name__)

ENDPOINTS = ("/mcp", "/v1/chat/completions", "/v1/models", "/healthz", "/metrics")


class RequestMetrics:
    """ASGI middleware: count requests by endpoint and status, time them, log one line each."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        endpoint = path if path in ENDPOINTS else "other"
        status = 500
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(seconds)
            log.info(
                "http.request", method=scope["method"], path=path, status=status, seconds=round(seconds, 3)
            )


async def healthz(request: Request) -> JSONResponse:
    """GET /healthz (no auth): status, the answering model, the models and tool servers.

    503 with `"status": "unavailable"` and the reasons under `"problems"` while a model's backend
    (a server elsewhere) does not answer: the agent cannot answer questions then.
    """
    service: Service = request.app.state.service
    runtime = service.runtime
    problems = await service.unreachable_models()
    return JSONResponse(
        {
            "status": "unavailable" if problems else "ok",
            "problems": {name: redact_urls(why) for name, why in problems.items()},
            "model": runtime.agent.model.name,
            "models": list(runtime.models),
            "servers": [t.name for t in runtime.toolbox.toolsets],
            "queue": {
                "active": service.queue.active,
                "waiting": service.queue.waiting,
                "concurrency": service.queue.concurrency,
                "queue_size": service.queue.max_waiting,
            },
        },
        status_code=503 if problems else 200,
    )


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics in the Prometheus text format."""
    service: Service = request.app.state.service
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def build_app(service: Service) -> Starlette:
    """The HTTP app for `service` (its MCP session manager starts with the app's lifespan).

    Every route, on every bind, refuses foreign Host and Origin headers, bodies that are not JSON and
    bodies over `serve.max_body_bytes` (`RequestGuard`); the app is the same whatever address it
    listens on.
    """
    settings = service.settings
    mcp = build_mcp_server(service)
    mcp.streamable_http_app(  # creates the session manager
        streamable_http_path="/mcp",
        # RequestGuard checks Host and Origin for every route; the library would do it for /mcp only,
        # and only on loopback binds (its `host` argument only picks those defaults, replaced here)
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=settings.max_body_bytes,
        stateless_http=settings.stateless_mcp,
    )
    manager = mcp.session_manager

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    token = settings.bearer_token.get_secret_value() if settings.bearer_token else None
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *openai_routes(),
            Route("/mcp", StreamableHTTPASGIApp(manager)),
            Route("/.well-known/oauth-protected-resource{rest:path}", oauth_not_used, methods=["GET"]),
            Route("/.well-known/oauth-authorization-server{rest:path}", oauth_not_used, methods=["GET"]),
            Route("/.well-known/openid-configuration{rest:path}", oauth_not_used, methods=["GET"]),
        ],
        middleware=[
            Middleware(RequestMetrics, metrics=service.metrics),
            Middleware(
                RequestGuard,
                policy=HostPolicy.build(settings.allowed_hosts, settings.allowed_origins),
                max_body_bytes=settings.max_body_bytes,
            ),
            Middleware(BearerAuth, token=token),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM or Ctrl-C ends `serve()` instead of the process.

    uvicorn re-raises the signal once it has shut down, which kills the process before the caller
    can stop the MCP servers and models it owns; here `serve()` just returns and the caller's
    cleanup runs (then the process exits normally).
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, or a `ConfigError` that says in one line why it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another homelab-agent serve?); stop that "
                "program, or choose another port with --port or serve.port"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def http_server(service: Service, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    """A uvicorn server for `service` on `host:port` (default: the `[serve]` settings).

    Raises:
        ConfigError: `host` is not loopback and there is no bearer token, or a short one.
    """
    settings = service.settings
    host = host or settings.host
    token = settings.bearer_token.get_secret_value() if settings.bearer_token else None
    check_bind(host, token)
    config = uvicorn.Config(
        build_app(service),
        host=host,
        port=settings.port if port is None else port,
        log_config=None,  # keep our structlog setup; uvicorn's access log never sees headers anyway
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return _Server(config)


async def serve_http(
    service: Service, host: str | None = None, port: int | None = None, sock: socket.socket | None = None
) -> None:
    """Serve until interrupted (SIGTERM or Ctrl-C end it gracefully and return).

    `sock` is a socket `listen` already bound (the CLI binds before it loads the models).

    Raises:
        ConfigError: the server may not or cannot listen there (no token, port in use, ...).
    """
    server = http_server(service, host, port)
    sock = sock or listen(server.config.host, server.config.port)
    log.info("serve.http", host=server.config.host, port=sock.getsockname()[1])
    await server.serve(sockets=[sock])
