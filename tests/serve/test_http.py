"""The HTTP server on a real loopback uvicorn: health, auth, metrics, and MCP over streamable HTTP."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agent.exceptions import ConfigError
from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from agent.serve.auth import check_bind, is_loopback
from agent.serve.http import http_server
from tests.serve.conftest import TOKEN, client, running, served


async def test_healthz_answers_without_a_token_with_the_model_and_servers() -> None:
    async with (
        served(ScriptedModel(model_name="tiny"), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base, token=None) as http,
    ):
        response = await http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"] == "tiny"
    assert body["servers"] == ["board"]
    assert body["queue"]["waiting"] == 0


@pytest.mark.parametrize("path", ["/v1/models", "/metrics", "/mcp"])
@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_protected_endpoints_refuse_a_missing_or_wrong_bearer_token(
    path: str, token: str | None
) -> None:
    async with (
        served(ScriptedModel(), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base, token=token) as http,
    ):
        response = await http.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["type"] == "authentication_error"
    assert TOKEN not in response.text


async def test_the_right_bearer_token_is_let_through() -> None:
    async with (
        served(ScriptedModel(), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.get("/v1/models")
    assert response.status_code == 200


def test_a_non_loopback_bind_without_a_token_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="bearer_token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", TOKEN)
    check_bind("127.0.0.1", None)
    check_bind("localhost", None)


async def test_the_http_server_refuses_to_build_on_a_public_address_without_a_token() -> None:
    async with served(ScriptedModel()) as service:
        with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0"):
            http_server(service, "0.0.0.0", 0)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("homelab.lan", False),
    ],
)
def test_loopback_addresses_are_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_metrics_count_requests_tool_calls_and_queue_depth() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks."])
    async with served(model) as service, running(service) as base, client(base, token=None) as http:
        await http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "q"}]})
        await http.get("/nowhere")
        text = (await http.get("/metrics")).text
    assert 'homelab_agent_requests_total{endpoint="/v1/chat/completions",status="200"} 1.0' in text
    assert 'homelab_agent_requests_total{endpoint="other",status="404"} 1.0' in text
    assert 'homelab_agent_tool_calls_total{outcome="ok",tool="board__list_tasks"} 1.0' in text
    assert 'homelab_agent_runs_total{outcome="ok"} 1.0' in text
    assert "homelab_agent_queue_depth 0.0" in text
    assert "homelab_agent_request_seconds_bucket" in text
    assert "homelab_agent_tokens_per_second" in text


async def test_metrics_count_router_decisions_escalations_and_decision_time() -> None:
    from agent.config import RouterSettings
    from agent.messages import ModelResponse
    from agent.router import Router

    small = ScriptedModel([ModelResponse(text="")], model_name="small")
    large = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks."], model_name="large")
    router = Router(small=small, large=large, settings=RouterSettings(mode="auto"))
    question = {"messages": [{"role": "user", "content": "What tasks are open?"}]}
    async with served(router) as service, running(service) as base, client(base, token=None) as http:
        await http.post("/v1/chat/completions", json=question)
        text = (await http.get("/metrics")).text
    assert 'homelab_agent_routes_total{decided="small",escalated="yes"} 1.0' in text
    assert 'homelab_agent_escalations_total{kind="empty"} 1.0' in text
    assert "homelab_agent_route_decision_seconds_count 1.0" in text


async def test_ask_works_over_streamable_http_with_the_bearer_token() -> None:
    model = ScriptedModel([ToolCall(name="board__list_tasks"), "Two tasks are open."])
    seen: list[str | None] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with served(model, bearer_token=TOKEN) as service, running(service) as base:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as mcp_client:
            result = await mcp_client.call_tool(
                "ask", {"question": "What is open?"}, progress_callback=progress
            )
    assert [b.text for b in result.content if isinstance(b, types.TextContent)] == ["Two tasks are open."]
    assert result.structured_content is not None
    assert result.structured_content["steps"][0]["tool_calls"][0]["name"] == "board__list_tasks"
    assert seen == ["step 1: board__list_tasks", "step 2: answering"]


async def test_a_write_can_be_approved_by_elicitation_over_streamable_http() -> None:
    written: list[str] = []

    async def accept(context: object, params: object) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"approve": True})

    model = ScriptedModel([ToolCall(name="board__add_task", arguments={"title": "Oil the fan"}), "Added."])
    async with (
        served(model, written=written) as service,
        running(service) as base,
        Client(f"{base}/mcp", mode="legacy", elicitation_callback=accept) as mcp_client,
    ):
        await mcp_client.call_tool("ask", {"question": "add it"})
    assert written == ["Oil the fan"]


async def test_tokens_never_appear_in_the_logs(capsys: pytest.CaptureFixture[str]) -> None:
    async with (
        served(ScriptedModel(["fine"]), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base) as http,
        client(base, token=TOKEN[::-1]) as wrong,
    ):
        await http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "q"}]})
        await wrong.get("/v1/models")
    logged = capsys.readouterr()
    assert "http.request" in logged.out + logged.err  # the requests were logged...
    assert TOKEN not in logged.out + logged.err  # ...without their tokens
    assert TOKEN[::-1] not in logged.out + logged.err


async def test_healthz_says_unavailable_with_503_when_the_model_backend_does_not_answer() -> None:
    from agent.models.openai_compat import OpenAICompatModel
    from tests.support.http_servers import free_port

    down = OpenAICompatModel(base_url=f"http://127.0.0.1:{free_port()}/v1", model="x", name="remote")
    async with served(down) as service, running(service) as base, client(base, token=None) as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "cannot reach the model server" in body["problems"]["remote"]


async def test_healthz_is_ok_when_the_model_backend_answers() -> None:
    from agent.models.openai_compat import OpenAICompatModel
    from tests.support.fake_openai import serve_fake_openai

    with serve_fake_openai(["hi"]) as fake:
        up = OpenAICompatModel(base_url=fake.url, model="x", name="remote")
        async with served(up) as service, running(service) as base, client(base, token=None) as http:
            response = await http.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["problems"] == {}


@pytest.mark.parametrize(("token", "error"), [(None, None), ("wrong-token", "invalid_token")])
async def test_a_401_says_in_www_authenticate_what_to_send(token: str | None, error: str | None) -> None:
    async with (
        served(ScriptedModel(), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base, token=token) as http,
    ):
        response = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="homelab-agent"')
    assert "Authorization: Bearer <token>" in challenge and "serve.bearer_token" in challenge
    assert ('error="invalid_token"' in challenge) is (error is not None)


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    ],
)
async def test_oauth_discovery_is_answered_with_a_404_that_says_to_send_the_static_token(path: str) -> None:
    async with (
        served(ScriptedModel(), bearer_token=TOKEN) as service,
        running(service) as base,
        client(base, token=None) as http,
    ):
        response = await http.get(path)
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "does not use OAuth" in message and "Authorization: Bearer <token>" in message
