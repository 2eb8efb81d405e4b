"""Docker over MCP: read-only tools a small local model can use to answer questions about a
homelab's docker-compose stacks.

    from tools.docker import DockerSettings, build_server
    server = build_server(DockerSettings(host="unix:///var/run/docker.sock"))

The Engine API client is public too. Nothing here can start, stop, exec or pull.
"""

from __future__ import annotations

from .client import DockerClient
from .errors import (
    DockerAPIError,
    DockerError,
    DockerForbiddenError,
    DockerNotFoundError,
    DockerPermissionError,
    DockerUnreachableError,
)
from .server import build_server
from .settings import DockerSettings

__all__ = [
    "DockerAPIError",
    "DockerClient",
    "DockerError",
    "DockerForbiddenError",
    "DockerNotFoundError",
    "DockerPermissionError",
    "DockerSettings",
    "DockerUnreachableError",
    "build_server",
]
