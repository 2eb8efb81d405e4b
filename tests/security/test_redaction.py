"""Row 7 of issue 12: credentials in URLs (user:pass@, ?api_key=) are shown nowhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agent.app import Runtime
from agent.cli import main
from agent.config import AgentSettings, ServerSettings, ServeSettings
from agent.loop import Agent
from agent.messages import ToolCall
from agent.models.openai_compat import OpenAICompatModel
from agent.models.scripted import ScriptedModel
from agent.serve.service import Service
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from homelab_common.logs import configure_logging
from tests.serve.conftest import client, running
from tests.support.http_servers import free_port, serve_app

SECRET = "hunter2-not-for-logs"
CHAT = "/v1/chat/completions"
QUESTION = {"messages": [{"role": "user", "content": "What is open?"}]}
CALL = ToolCall(name="notes__search", arguments={"text": "x"})


@asynccontextmanager
async def served_with(model: object, servers: dict[str, ServerSettings]) -> AsyncIterator[Service]:
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset(name, tg, settings=s) for name, s in servers.items()])
        agent = Agent(model, toolbox, AgentSettings(max_steps=3), system_prompt="You help.")  # type: ignore[arg-type]
        try:
            yield Service(Runtime(agent, toolbox, {"m": model}), ServeSettings())  # type: ignore[dict-item]
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()


async def test_a_model_url_with_a_password_is_not_in_the_error_body_or_the_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug", "json")
    url = f"http://admin:{SECRET}@127.0.0.1:{free_port()}/v1"
    model = OpenAICompatModel(base_url=url, model="x", name="m", timeout_s=2)
    async with served_with(model, {}) as service, running(service) as base, client(base) as http:
        response = await http.post(CHAT, json=QUESTION)
    logged = capsys.readouterr()
    assert response.status_code >= 500
    assert "cannot reach" in response.json()["error"]["message"]
    assert SECRET not in response.text
    assert SECRET not in logged.out + logged.err


async def broken(request: Request) -> PlainTextResponse:
    return PlainTextResponse("upstream exploded", status_code=500)


@pytest.mark.parametrize("reachable", [True, False])
async def test_an_mcp_url_with_an_api_key_is_not_in_the_trace_or_the_logs(
    capsys: pytest.CaptureFixture[str], reachable: bool
) -> None:
    configure_logging("debug", "json")
    app = Starlette(routes=[Route("/mcp", broken, methods=["GET", "POST", "DELETE"])])
    with serve_app(app) as upstream:
        where = upstream if reachable else f"http://127.0.0.1:{free_port()}"
        server = ServerSettings(url=f"{where}/mcp?api_key={SECRET}", connect_timeout_s=3)
        model = ScriptedModel(function=lambda m, t: "done" if m[-1].role == "tool" else CALL)
        async with (
            served_with(model, {"notes": server}) as service,
            running(service) as base,
            client(base) as http,
        ):
            response = await http.post(CHAT, json=QUESTION)
    logged = capsys.readouterr()
    if reachable:
        assert "/mcp" in response.text  # the error names the server's URL...
    assert SECRET not in response.text  # ...without its credentials
    assert SECRET not in logged.out + logged.err


def test_config_check_shows_urls_without_their_credentials(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f"""
[models.remote]
backend = "openai"
url = "http://admin:{SECRET}@127.0.0.1:9/v1"
[agent]
model = "remote"
[mcpServers.notes]
url = "https://notes.lan/mcp?api_key={SECRET}&x=1"
"""
    )
    result = CliRunner().invoke(main, ["--config", str(config), "config", "check"])
    assert SECRET not in result.output
    assert "notes.lan/mcp" in result.output and "127.0.0.1:9/v1" in result.output
    assert json.dumps(SECRET) not in result.output
