"""Kanboard over MCP: a small set of plainly named tools a small local model can drive.

    from tools.kanboard import KanboardSettings, build_server
    server = build_server(KanboardSettings(url="http://kanboard.lan", secret=SecretStr("...")))

With no URL, the built-in demo board answers (and says so). The JSON-RPC client is public too.
"""

from __future__ import annotations

from .client import KanboardClient
from .errors import (
    KanboardAuthError,
    KanboardError,
    KanboardForbiddenError,
    KanboardNotFoundError,
    KanboardRejectedError,
    KanboardRPCError,
    KanboardUnreachableError,
)
from .server import build_server
from .settings import KanboardSettings

__all__ = [
    "KanboardAuthError",
    "KanboardClient",
    "KanboardError",
    "KanboardForbiddenError",
    "KanboardNotFoundError",
    "KanboardRPCError",
    "KanboardRejectedError",
    "KanboardSettings",
    "KanboardUnreachableError",
    "build_server",
]
