"""Open WebUI 0.12.4's own MCP client (`open_webui.utils.mcp.client.MCPClient`) against our MCP servers.

Open WebUI connects to an MCP tool server (Admin Settings → External Tools, type "MCP Streamable
HTTP") with this class: `connect(url, headers)` (the SDK's `Client` over `streamable_http_client`,
mode "auto": the 2026-07-28 `server/discover` probe, else the `initialize` handshake),
`list_tool_specs()` (paged `tools/list`), `call_tool(name, args)` (`tools/call`, its result's
content, an error result raised). This script runs that very code, from Open WebUI's venv, against:

- `homelab-agent-kanboard --transport http` on the demo board (started here): lists the tools and
  calls `overdue_tasks` for the Homelab project;
- with `--agent-url URL` (a running `homelab-agent serve --transport http`, its `/mcp`): lists the
  tools and, with `--ask`, calls `ask` with the question (one agent run; minutes on a small CPU).

It prints one JSON object with what was listed and what the calls returned. Outside CI.

Usage: $OWUI_VENV/bin/python benchmarks/openwebui/mcp_check.py [--agent-url http://127.0.0.1:8765/mcp --ask]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.helpers import free_port  # noqa: E402 (run as a script: after the sys.path line)

QUESTION = "What is overdue in the Homelab project?"


def wait_port(port: int, within: float = 60) -> None:
    """Return once something listens on loopback `port`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    sys.exit(f"error: nothing listens on port {port} after {within:.0f}s")


async def exercise(
    url: str, headers: dict[str, str] | None, call: tuple[str, dict[str, Any]] | None
) -> dict[str, Any]:
    """Connect as Open WebUI does, list the tool specs, make one call; what each step returned."""
    from open_webui.utils.mcp.client import MCPClient

    client = MCPClient(server_name="homelab")
    report: dict[str, Any] = {"url": url}
    started = time.monotonic()
    try:
        await client.connect(url, headers=headers)
        report["connect_s"] = round(time.monotonic() - started, 2)
        report["instructions"] = (client.instructions or "")[:200]
        specs = await client.list_tool_specs() or []
        report["tools"] = [s["name"] for s in specs]
        if call is not None:
            name, arguments = call
            started = time.monotonic()
            try:
                content = await client.call_tool(name, arguments)
                texts = [c.get("text", "") for c in content if isinstance(c, dict)]
                report["call"] = {"tool": name, "ok": True, "text": "\n".join(texts)[:1500]}
            except Exception as exc:  # Open WebUI turns an error result into an exception
                report["call"] = {"tool": name, "ok": False, "error": str(exc)[:500]}
            report["call"]["seconds"] = round(time.monotonic() - started, 2)
    finally:
        await client.disconnect()
    return report


def main() -> None:
    """Run the checks and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent-url", default=None, help="a running serve's /mcp")
    parser.add_argument("--token", default=None, help="serve's bearer token, if it has one")
    parser.add_argument("--ask", action="store_true", help="also call the agent's ask tool (an agent run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="owui-mcp-") as tmp:
        # Open WebUI's env module wants a data folder and a secret key before its client imports
        os.environ.setdefault("DATA_DIR", tmp)
        os.environ.setdefault("WEBUI_SECRET_KEY", secrets.token_hex(32))
        os.environ.setdefault("OFFLINE_MODE", "true")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        port = free_port()
        env = {**os.environ, "KANBOARD_URL": "", "KANBOARD_TOKEN": ""}
        kanboard = subprocess.Popen(
            [
                str(REPO / ".venv" / "bin" / "homelab-agent-kanboard"),
                "--transport",
                "http",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_port(port)
            reports = [
                asyncio.run(
                    exercise(f"http://127.0.0.1:{port}/mcp", None, ("overdue_tasks", {"project": "Homelab"}))
                )
            ]
            if args.agent_url:
                headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
                call = ("ask", {"question": QUESTION}) if args.ask else None
                reports.append(asyncio.run(exercise(args.agent_url, headers, call)))
        finally:
            os.killpg(kanboard.pid, signal.SIGTERM)
            kanboard.wait(10)
    print(json.dumps(reports, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except urllib.error.URLError as exc:
        sys.exit(f"error: {exc}")
