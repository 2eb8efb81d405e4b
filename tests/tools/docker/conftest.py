"""Fixtures for the Docker tools: a server on the test stack (the `stack` fixture of
tests/conftest.py, on a real engine), and a server answered by recorded engine answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from tests.support.docker_stack import Stack
from tools.docker import DockerSettings, build_server

SAMPLES = Path(__file__).parent / "data" / "engine-samples.json"


def text(result: CallToolResult) -> str:
    """The text of a tool result."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


@pytest.fixture
def live_server(stack: Stack) -> MCPServer:
    """The Docker MCP server against the engine holding the test stack."""
    return build_server(DockerSettings(host=stack.host))


async def call(server: MCPServer, tool: str, **args: object) -> tuple[str, bool]:
    """Call one tool in-process; its text and whether it failed."""
    async with Client(server) as client:
        result = await client.call_tool(tool, dict(args))
    return text(result), result.is_error


class Samples:
    """Engine answers recorded from the test stack (`record_samples`), served by path."""

    def __init__(self) -> None:
        data = json.loads(SAMPLES.read_text())
        self.responses: dict[str, Any] = data["responses"]
        self.logs: dict[str, bytes] = {k: base64.b64decode(v) for k, v in data["logs"].items()}
        self.secrets: list[str] = data["secrets"]
        self.ids: dict[str, str] = data["ids"]
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer as the engine did; 404 with Docker's message for anything not recorded."""
        self.requests.append(f"{request.method} {request.url.path}")
        path = request.url.path
        if path.endswith("/logs") and path.split("/")[2] in self.logs:
            return httpx.Response(200, content=self.logs[path.split("/")[2]])
        if path in self.responses:
            return httpx.Response(200, json=self.responses[path])
        if path.endswith("/stats"):
            any_stats = next(v for k, v in self.responses.items() if k.endswith("/stats"))
            return httpx.Response(200, json=any_stats)
        return httpx.Response(404, json={"message": f"No such object: {path}"})

    def inspected(self, key: str) -> dict[str, Any]:
        """The recorded inspect answer of the stack container `key` (project/service or name)."""
        answer: dict[str, Any] = self.responses[f"/containers/{self.ids[key]}/json"]
        return answer


@pytest.fixture
def samples() -> Samples:
    """The recorded engine answers."""
    return Samples()


@pytest.fixture
def recorded_server(samples: Samples) -> MCPServer:
    """The Docker MCP server answered by the recorded engine answers."""
    return build_server(DockerSettings(), transport=httpx.MockTransport(samples.handler))
