"""A small MCP server for serving tests: a read tool and a write tool that records what it wrote."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations


def build_server(written: list[str] | None = None) -> MCPServer:
    """The board server; every `add_task` title is appended to `written`."""
    server = MCPServer("board")
    tasks = ["Replace UPS battery", "Renew TLS certificate"]
    log = written if written is not None else []

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def list_tasks() -> str:
        """List the open tasks."""
        return "\n".join(tasks)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    def add_task(title: str) -> str:
        """Add a task to the board."""
        tasks.append(title)
        log.append(title)
        return f"added {title!r}"

    return server
