"""A small MCP server for agent tests: notes, a failing tool, a crash and a hang.

Run in-process (`build_server()`) or as a stdio subprocess (`python -m tests.support.notes_server`).
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

NOTES = {
    "backup": "Nightly ZFS snapshots at 02:00, kept 14 days.",
    "router": "OPNsense on the N100 box, firmware 24.7.",
}


def build_server() -> MCPServer:
    """The notes server."""
    server = MCPServer("notes", instructions="Notes about the homelab: read one with get_note.")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def get_note(topic: str) -> str:
        """Read the note about a topic."""
        if topic not in NOTES:
            raise ToolError(f"no note about {topic!r}; topics: {', '.join(NOTES)}")
        return NOTES[topic]

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def search(text: str) -> str:
        """Find notes that mention a word."""
        hits = [t for t, body in NOTES.items() if text.lower() in body.lower() or text.lower() in t]
        return ", ".join(hits) or "no notes match"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def list_notes() -> str:
        """Every note, one per line."""
        return (
            "Notes:\n" + "\n".join(f"- {t}: {body}" for t, body in NOTES.items()) + f"\n({len(NOTES)} notes)"
        )

    @server.tool()
    def big_report(lines: int = 2000) -> str:
        """A very long result."""
        return "\n".join(f"line {i}: disk {i % 8} healthy, 41 C, 0 reallocated sectors" for i in range(lines))

    @server.tool()
    def crash() -> str:
        """Kill the server process (only meaningful over stdio)."""
        sys.stderr.flush()
        os._exit(3)

    @server.tool()
    def hang(seconds: float = 60.0) -> str:
        """Block for a long time."""
        time.sleep(seconds)
        return "woke up"

    return server


if __name__ == "__main__":
    build_server().run("stdio")
