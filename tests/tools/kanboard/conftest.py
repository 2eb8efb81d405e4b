"""Fixtures for the Kanboard tools: a fresh demo board per test, reachable in-process."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from pydantic import SecretStr

from tools.kanboard import KanboardSettings, build_server
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL, DemoBoard, demo_transport, load_seed

TOKEN = "s3cr3t-t0ken-do-not-leak"


@pytest.fixture
def board() -> DemoBoard:
    """A fresh demo board, seeded from the packaged seed.json."""
    return DemoBoard(load_seed())


@pytest.fixture
def transport(board: DemoBoard) -> httpx.AsyncBaseTransport:
    """The demo board behind an in-process httpx transport."""
    return demo_transport(board)


@pytest.fixture
def settings() -> KanboardSettings:
    """Settings for the demo board as if it were a real Kanboard (app token auth)."""
    return KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))


ServerFactory = Callable[..., MCPServer]


@pytest.fixture
def make_server(transport: httpx.AsyncBaseTransport, settings: KanboardSettings) -> ServerFactory:
    """Build the MCP server against the demo board; keyword arguments override settings."""

    def make(**overrides: object) -> MCPServer:
        return build_server(settings.model_copy(update=overrides), transport)

    return make


def text(result: CallToolResult) -> str:
    """The text of a tool result."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))
