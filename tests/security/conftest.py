"""Helpers for the security tests: the server as an attacker meets it, on a real loopback socket.

`running_as(service)` serves the app exactly as `http_server` builds it for the service's
`serve.host` (say 0.0.0.0, where the MCP library would relax its own checks) while listening on
127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn

from agent.serve.http import build_app
from agent.serve.service import Service

EVIL = "http://evil.example"


@asynccontextmanager
async def running_as(service: Service) -> AsyncIterator[str]:
    """A real uvicorn on 127.0.0.1 serving the app built for `service.settings.host`; yields its URL."""
    config = uvicorn.Config(build_app(service), host="127.0.0.1", port=0, log_config=None)
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
