"""A demo Kanboard: a JSON-RPC server seeded with a homelab board, for trying the tools without one.

An emulator of Kanboard 1.2.53's API, not part of the MCP server: the Kanboard server falls back to
it when no KANBOARD_URL is set, and tests and benchmarks ask it instead of a real Kanboard.
`demo_transport()` serves a fresh board in-process (through `httpx.ASGITransport`);
`create_app()` is the same board as an ASGI app for `homelab-agent-kanboard demo`. The app token is
"demo-token" (user `jsonrpc`); every user's password is their username. The procedures it answers
are listed in one table (`procedures.PROCEDURES`). It imports nothing of the MCP server or the agent.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from .app import create_app as _create_app
from .board import DemoBoard

__all__ = ["DEMO_TOKEN", "DEMO_URL", "DemoBoard", "create_app", "demo_transport", "load_seed"]

DEMO_TOKEN = "demo-token"
DEMO_URL = "http://demo-board.invalid/jsonrpc.php"


def load_seed(path: Path | None = None) -> dict[str, Any]:
    """A board's data: the packaged `seed.json`, or a seed file of the same shape at `path`."""
    source = path if path is not None else resources.files(__package__).joinpath("seed.json")
    return dict(json.loads(source.read_text(encoding="utf-8")))


def create_app(board: DemoBoard | None = None) -> Starlette:
    """The demo board as an ASGI app (a fresh board from the seed unless one is given)."""
    return _create_app(board or DemoBoard(load_seed()), DEMO_TOKEN)


def demo_transport(board: DemoBoard | None = None) -> httpx.ASGITransport:
    """An httpx transport that answers from the demo board in-process."""
    return httpx.ASGITransport(app=create_app(board))
