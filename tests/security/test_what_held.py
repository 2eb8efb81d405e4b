"""What held when issue 12 was filed, kept as regression tests through a real loopback server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from agent.app import Runtime
from agent.cli import main
from agent.config import AgentSettings, ServerSettings, ServeSettings
from agent.exceptions import ConfigError
from agent.loop import Agent
from agent.messages import ToolCall
from agent.models.openai_compat import OpenAICompatModel
from agent.models.scripted import ScriptedModel
from agent.serve.auth import check_bind
from agent.serve.service import Service
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from homelab_common.logs import configure_logging
from tests.conftest import ROOT
from tests.security.conftest import EVIL
from tests.serve.conftest import TOKEN, GatedModel, client, echo, eventually, running, served
from tests.support.http_servers import free_port

CHAT = "/v1/chat/completions"
QUESTION = {"messages": [{"role": "user", "content": "What is open?"}]}
PROTECTED = [("GET", "/v1/models"), ("GET", "/v1/models/homelab-agent"), ("POST", CHAT), ("GET", "/metrics")]
PROTECTED += [("POST", "/mcp"), ("GET", "/mcp")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_protected_route_needs_the_bearer_token(method: str, path: str) -> None:
    model = ScriptedModel(function=echo)
    async with (
        served(model, bearer_token=TOKEN) as service,
        running(service) as base,
        client(base, token=None) as anonymous,
        client(base, token=TOKEN[:-1] + "X") as wrong,
    ):
        for http in (anonymous, wrong):
            response = await http.request(method, path, json=QUESTION if method == "POST" else None)
            assert response.status_code == 401, (path, response.text)
    assert model.requests == []


def test_a_public_bind_without_a_token_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="without a bearer token"):
        check_bind("0.0.0.0", None)


async def test_mcp_on_loopback_refuses_a_foreign_origin() -> None:
    async with served(ScriptedModel()) as service, running(service) as base, client(base) as http:
        response = await http.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Origin": EVIL}
        )
    assert response.status_code == 403


async def test_malformed_requests_get_clear_400s_and_unknown_models_404() -> None:
    async with (
        served(ScriptedModel(function=echo)) as service,
        running(service) as base,
        client(base) as http,
    ):
        broken = await http.post(CHAT, content=b"{not json", headers={"Content-Type": "application/json"})
        no_user = await http.post(CHAT, json={"messages": [{"role": "system", "content": "x"}]})
        wrong_shape = await http.post(CHAT, json={"messages": "hello"})
        unknown = await http.post(CHAT, json={**QUESTION, "model": "gpt-9"})
    assert [r.status_code for r in (broken, no_user, wrong_shape)] == [400, 400, 400]
    assert all(r.json()["error"]["type"] == "invalid_request_error" for r in (broken, no_user, wrong_shape))
    assert unknown.status_code == 404


async def test_no_secret_reaches_logs_trace_healthz_or_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("debug", "json", secrets=[TOKEN])
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks."])
    async with served(model, bearer_token=TOKEN) as service, running(service) as base, client(base) as http:
        answer = await http.post(CHAT, json=QUESTION)
        health = await http.get("/healthz")
        metrics = await http.get("/metrics")
    logged = capsys.readouterr()
    for text in (answer.text, health.text, metrics.text, logged.out, logged.err):
        assert TOKEN not in text


async def test_writes_through_the_agent_never_run_without_the_users_yes_in_the_chat() -> None:
    written: list[str] = []
    model = ScriptedModel([ToolCall(name="board__add_task", arguments={"title": "x"}), "Not done."])
    async with served(model, written=written) as service, running(service) as base, client(base) as http:
        asked = (await http.post(CHAT, json=QUESTION)).json()["choices"][0]["message"]["content"]
        assert written == []
        history = [*QUESTION["messages"], {"role": "assistant", "content": asked}]
        response = await http.post(CHAT, json={"messages": [*history, {"role": "user", "content": "no"}]})
    call = response.json()["homelab_agent"]["steps"][0]["tool_calls"][0]
    assert "approval apv-" in asked and "board__add_task" in asked
    assert written == [] and call["is_error"] and "answered no" in call["result"]


async def test_the_server_recovers_from_a_killed_and_a_hung_tool_server() -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__crash"),
            "It crashed.",
            ToolCall(name="notes__hang", arguments={"seconds": 30}),
            "It hung.",
            ToolCall(name="notes__get_note", arguments={"topic": "backup"}),
            "Snapshots at 02:00.",
        ]
    )
    settings = ServerSettings(
        command=sys.executable, args=["-m", "tests.support.notes_server"], cwd=str(ROOT), timeout_s=2
    )
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset("notes", tg, settings=settings)])
        agent = Agent(model, toolbox, AgentSettings(max_steps=3), system_prompt="You help.")
        service = Service(Runtime(agent, toolbox, {model.name: model}), ServeSettings(allow_writes=True))
        async with running(service) as base, client(base, timeout=30) as http:
            crashed = (await http.post(CHAT, json=QUESTION)).json()
            hung = (await http.post(CHAT, json=QUESTION)).json()
            fine = (await http.post(CHAT, json=QUESTION)).json()
        await toolbox.aclose()
        tg.cancel_scope.cancel()
    assert crashed["homelab_agent"]["steps"][0]["tool_calls"][0]["is_error"]
    assert "did not answer within 2s" in hung["homelab_agent"]["steps"][0]["tool_calls"][0]["result"]
    assert "02:00" in fine["homelab_agent"]["steps"][0]["tool_calls"][0]["result"]


async def test_the_server_stays_up_when_the_model_backend_is_down() -> None:
    down = OpenAICompatModel(base_url=f"http://127.0.0.1:{free_port()}/v1", model="x", name="m", timeout_s=2)
    async with served(down) as service, running(service) as base, client(base) as http:
        failed = await http.post(CHAT, json=QUESTION)
        models = await http.get("/v1/models")
    assert failed.status_code == 500 and "cannot reach the model server" in failed.json()["error"]["message"]
    assert models.status_code == 200


async def test_a_client_that_goes_away_frees_its_place() -> None:
    model = GatedModel(ScriptedModel(function=echo))
    async with served(model, concurrency=1) as service, running(service) as base, client(base) as http:

        async def post() -> None:
            await http.post(CHAT, json=QUESTION)

        async with anyio.create_task_group() as tg:
            tg.start_soon(post)
            await eventually(lambda: model.started == 1)
            tg.cancel_scope.cancel()
        await eventually(lambda: service.queue.active == 0)
        model.gate.set()
        after = await http.post(CHAT, json=QUESTION)
    assert after.status_code == 200


def test_config_check_and_logs_never_print_a_token(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[serve]\nbearer_token = "{TOKEN}"\n[mcpServers.x]\nurl = "http://127.0.0.1:9/mcp"\n'
        f'headers = {{ Authorization = "Bearer {TOKEN}" }}\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "--log-level", "debug", "config", "check"])
    assert TOKEN not in result.output
    assert json.dumps(TOKEN) not in result.output
