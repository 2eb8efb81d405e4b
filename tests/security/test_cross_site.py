"""Row 2 and 3 of issue 12: what any web page can send, and DNS rebinding, on every route and bind."""

from __future__ import annotations

import json

import pytest

from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from tests.security.conftest import EVIL
from tests.serve.conftest import TOKEN, client, echo, running, served

CHAT = "/v1/chat/completions"
QUESTION = {"model": "homelab-agent", "messages": [{"role": "user", "content": "close task 12"}]}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "x", "version": "1"},
    },
}


async def test_a_cross_site_text_plain_post_to_v1_is_refused_and_never_reaches_the_model() -> None:
    model = ScriptedModel(function=echo)
    async with served(model) as service, running(service) as base, client(base, token=None) as http:
        response = await http.post(
            CHAT, content=json.dumps(QUESTION), headers={"Content-Type": "text/plain", "Origin": EVIL}
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert model.requests == []


async def test_a_cross_site_json_post_to_v1_is_refused_with_403() -> None:
    written: list[str] = []
    model = ScriptedModel([ToolCall(name="board__add_task", arguments={"title": "pwned"}), "done"])
    async with (
        served(model, written=written, allow_writes=True) as service,
        running(service) as base,
        client(base, token=None) as http,
    ):
        response = await http.post(CHAT, json=QUESTION, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert written == [] and model.requests == []


async def test_a_post_that_is_not_json_is_refused_with_415_even_without_an_origin() -> None:
    model = ScriptedModel(function=echo)
    async with served(model) as service, running(service) as base, client(base, token=None) as http:
        response = await http.post(CHAT, content=json.dumps(QUESTION), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]
    assert model.requests == []


async def test_a_dns_rebinding_host_gets_no_answer_and_no_trace() -> None:
    model = ScriptedModel(function=echo)
    async with served(model) as service, running(service) as base, client(base, token=None) as http:
        port = base.rsplit(":", 1)[1]
        response = await http.post(CHAT, json=QUESTION, headers={"Host": f"evil.example:{port}"})
        models = await http.get("/v1/models", headers={"Host": f"evil.example:{port}"})
    assert response.status_code == 421 and models.status_code == 421
    assert "serve.allowed_hosts" in response.json()["error"]["message"]
    assert "homelab_agent" not in response.text
    assert model.requests == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Origin": EVIL}, 403), ({"Host": "evil.example:8765"}, 421)],
)
async def test_mcp_on_a_public_bind_with_a_token_still_checks_origin_and_host(
    headers: dict[str, str], status: int
) -> None:
    async with (
        served(ScriptedModel(), bearer_token=TOKEN, host="0.0.0.0") as service,
        running(service) as base,
        client(base) as http,
    ):
        response = await http.post(
            "/mcp", json=INITIALIZE, headers={"Accept": "application/json, text/event-stream", **headers}
        )
    assert response.status_code == status


async def test_api_clients_without_an_origin_and_pages_on_loopback_are_let_through() -> None:
    async with (
        served(ScriptedModel(function=echo)) as service,
        running(service) as base,
        client(base, token=None) as http,
    ):
        plain = await http.post(CHAT, json=QUESTION)
        local_page = await http.post(CHAT, json=QUESTION, headers={"Origin": "http://localhost:3000"})
        by_ip = await http.get("/v1/models", headers={"Host": "192.168.1.20:8765"})
    assert plain.status_code == 200 and local_page.status_code == 200 and by_ip.status_code == 200


async def test_configured_hosts_and_origins_are_let_through() -> None:
    async with (
        served(
            ScriptedModel(function=echo),
            allowed_hosts=["homelab.lan", "*.home.arpa"],
            allowed_origins=["https://chat.lan"],
        ) as service,
        running(service) as base,
        client(base, token=None) as http,
    ):
        named = await http.get("/v1/models", headers={"Host": "homelab.lan:8765"})
        wildcard = await http.get("/v1/models", headers={"Host": "agent.home.arpa"})
        page = await http.post(CHAT, json=QUESTION, headers={"Origin": "https://chat.lan"})
        other = await http.post(CHAT, json=QUESTION, headers={"Origin": "https://chat.lan.evil.example"})
    assert (named.status_code, wildcard.status_code, page.status_code) == (200, 200, 200)
    assert other.status_code == 403
