"""Record what a real llama-server answers to our two turns (a call, then an answer) as a fixture.

    python -m benchmarks.record_server_shapes http://127.0.0.1:8080/v1 \\
        tests/models/data/servers/llama_server.json

The server: `llama-server --jinja --model QWEN2.5-CODER-1.5B.gguf` (built by
benchmarks/peers/build_llama_server.sh). The fixture feeds tests/models/test_remote_servers.py;
the chat template in `/props` and the grammar we sent are shortened. It records; it asserts nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx

from agent.messages import Message
from agent.models.openai_compat import OpenAICompatModel
from tests.models.conftest import KANBOARD_TOOLS

QUESTION = [
    Message.system("You answer questions about Kanboard."),
    Message.user("What is overdue in Homelab?"),
]
RESULT = '{"tasks": [{"title": "Renew TLS"}, {"title": "Backups"}]}'

Exchange = tuple[str, str, Any, Any]  # method, path, request body, response body


class Recording(httpx.AsyncBaseTransport):
    """A real transport that keeps every request and response body."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        sent = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, sent, json.loads(body) if body else None))
        return httpx.Response(response.status_code, headers=response.headers, content=body)


async def record(url: str) -> dict[str, Any]:
    """Ask the two turns and return the fixture."""
    transport = Recording()
    model = OpenAICompatModel(base_url=url, model="qwen", name="remote", transport=transport, max_tokens=96)
    first = await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    call = first.tool_calls[0]
    convo = [*QUESTION, Message.assistant("", tool_calls=[call]), Message.tool(call, RESULT)]
    second = await model.respond(convo, KANBOARD_TOOLS, tool_choice="none")
    await model.aclose()
    by_path = {(m, p): answered for m, p, _, answered in transport.seen}
    chats = [(sent, answered) for _, p, sent, answered in transport.seen if p == "/v1/chat/completions"]
    template = by_path[("GET", "/props")].get("chat_template", "")
    at = template.find("<tool_call>")
    models = by_path[("GET", "/v1/models")]
    for entry in models.get("data", []):
        entry.pop("meta", None)
    models.pop("models", None)
    return {
        "_source": "recorded from the real llama-server built by benchmarks/peers/build_llama_server.sh "
        "(llama.cpp as vendored by llama-cpp-python 0.3.36) with Qwen2.5-Coder-1.5B Q4_K_M by "
        "benchmarks/record_server_shapes.py; the chat template in /props shortened",
        "constraint": "grammar",
        "models": models,
        "probes": {"/props": {"chat_template": "..." + template[max(0, at - 80) : at + 120] + "..."}},
        "chat": chats[0][1],
        "answer": chats[1][1],
        "expected": {
            "input_tokens": first.usage.input_tokens,
            "cached_tokens": first.usage.cached_tokens,
            "output_tokens": first.usage.output_tokens,
            "answer": second.text,
            "call": {"name": call.name, "arguments": call.arguments},
        },
        "request": {**chats[0][0], "grammar": "(the GBNF, cut)"},
    }


def main() -> int:
    """Entry point: URL OUT."""
    url, out = sys.argv[1], Path(sys.argv[2])
    data = anyio.run(record, url)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
