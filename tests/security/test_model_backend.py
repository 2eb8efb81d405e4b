"""Row 9 of issue 12: a model backend that answers HTML (a login page, a proxy) is a clear error."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from agent.models.openai_compat import OpenAICompatModel
from tests.security.test_redaction import served_with
from tests.serve.conftest import client, running
from tests.support.http_servers import serve_app

CHAT = "/v1/chat/completions"
QUESTION = {"messages": [{"role": "user", "content": "What is open?"}]}


async def login_page(request: Request) -> HTMLResponse:
    return HTMLResponse("<!doctype html><html><body>Please log in</body></html>")


async def test_an_html_answer_from_the_backend_is_a_clear_error_streaming_or_not() -> None:
    app = Starlette(routes=[Route("/v1/chat/completions", login_page, methods=["POST"])])
    with serve_app(app) as backend:
        model = OpenAICompatModel(base_url=f"{backend}/v1", model="x", name="m", timeout_s=5)
        async with served_with(model, {}) as service, running(service) as base, client(base) as http:
            plain = await http.post(CHAT, json=QUESTION)
            async with http.stream("POST", CHAT, json={**QUESTION, "stream": True}) as response:
                lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert plain.status_code == 500
    message = plain.json()["error"]["message"]
    assert "text/html" in message and "not an OpenAI-compatible" in message
    streamed = json.loads(lines[-2][6:])["error"]
    assert "text/html" in streamed["message"] and streamed["code"] == "ModelError"
    assert lines[-1] == "data: [DONE]"
