"""`homelab-agent serve` as a user runs it: the stdio server as a subprocess, and the bind check.

The answering model is an `openai`-backend model pointed at a fake OpenAI-compatible server on
loopback that echoes the question, so the real command runs unchanged on a machine without weights.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import mcp_types as types
from click.testing import CliRunner
from mcp import Client, StdioServerParameters

from agent.cli.serve import serve
from tests.support.fake_openai import echo, serve_fake_openai

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "http://127.0.0.1:9/v1"  # a model server never asked: these tests stop before a question


def write_config(tmp_path: Path, serve_table: str = "", model_url: str = NOWHERE) -> Path:
    path = tmp_path / "homelab-agent.toml"
    serve_table = f"store = {str(tmp_path / 'serve.sqlite3')!r}\n{serve_table}"  # never the user's
    path.write_text(
        f"""
[models.default]
backend = "openai"
url = "{model_url}"

[logging]
level = "warning"

[serve]
{serve_table}

[mcpServers.notes]
command = {str(sys.executable)!r}
args = ["-m", "tests.support.notes_server"]
cwd = {str(ROOT)!r}
"""
    )
    return path


async def test_the_claude_desktop_command_serves_ask_over_stdio(tmp_path: Path) -> None:
    with serve_fake_openai(function=echo) as fake:
        config = write_config(tmp_path, model_url=fake.url)
        params = StdioServerParameters(
            command=sys.executable,  # the venv's `homelab-agent` script when installed; `-m agent` too
            args=["-m", "agent", "--config", str(config), "serve", "--transport", "stdio"],
            env=dict(os.environ),
            cwd=str(ROOT),
        )
        async with Client(params) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("ask", {"question": "What is in the backup note?"})
    assert tools == ["ask"]
    text = [b.text for b in result.content if isinstance(b, types.TextContent)]
    assert text == ["echo: What is in the backup note? (6 tools)"]  # the notes server's tools reached it
    assert result.structured_content is not None
    assert result.structured_content["steps"][0]["model"] == "default"


def test_the_documented_claude_desktop_snippet_runs_the_stdio_server() -> None:
    doc = (ROOT / "docs" / "serving.md").read_text()
    snippet = json.loads(re.search(r"```json\n(.*?)```", doc, re.DOTALL).group(1))  # type: ignore[union-attr]
    server = snippet["mcpServers"]["homelab-agent"]
    assert Path(server["command"]).is_absolute() and server["command"].endswith("/.venv/bin/homelab-agent")
    assert server["args"][0] == "--config" and Path(server["args"][1]).is_absolute()
    assert server["args"][2:] == ["serve", "--transport", "stdio"]


def test_serving_http_on_a_public_address_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'host = "0.0.0.0"')
    result = CliRunner().invoke(serve, ["--transport", "http"], obj={"config_path": str(config)})
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0" in result.output
    assert "serve.bearer_token" in result.output


def test_serving_on_a_port_already_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, f"port = {port}")
        result = CliRunner().invoke(serve, ["--transport", "http"], obj={"config_path": str(config)})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"error: port {port} on 127.0.0.1 is already in use (another homelab-agent serve?); stop that "
        "program, or choose another port with --port or serve.port"
    ]


def test_sigterm_stops_the_http_server_gracefully_and_its_mcp_servers_with_it(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    import httpx
    import psutil

    from tests.support.http_servers import free_port

    with serve_fake_openai(function=echo) as fake:
        port = free_port()
        config = write_config(tmp_path, model_url=fake.url)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agent",
                "--config",
                str(config),
                "serve",
                "--transport",
                "http",
                "--port",
                str(port),
            ],
            env=dict(os.environ),
            cwd=str(ROOT),
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                    time.sleep(0.1)
            question = {"messages": [{"role": "user", "content": "hi"}]}
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=question, timeout=30)
            assert answer.json()["choices"][0]["message"]["content"] == "echo: hi (6 tools)"
            children = psutil.Process(process.pid).children(recursive=True)
            assert any("tests.support.notes_server" in " ".join(c.cmdline()) for c in children)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert code == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
