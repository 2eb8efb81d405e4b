"""A real OpenAI-compatible HTTP server on loopback that replays scripted chat completions.

Tests point `backend = "openai"` models at it to drive the CLI and the server end to end without
model weights. It records every request body it receives.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.http_servers import serve_app

Reply = str | dict[str, Any]
"""A final answer, or {"name": ..., "arguments": {...}} for a tool call."""


def echo(body: dict[str, Any]) -> Reply:
    """`echo: QUESTION (N tools)`: the last user message and how many tools the request offered."""
    question = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
    return f"echo: {question} ({len(body.get('tools') or [])} tools)"


@dataclass
class FakeOpenAI:
    """The replies to give, in order (or `function` of each request body), and the requests seen."""

    replies: list[Reply]
    function: Callable[[dict[str, Any]], Reply] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def _message(self, reply: Reply, n: int) -> dict[str, Any]:
        if isinstance(reply, str):
            return {"role": "assistant", "content": reply}
        call = {
            "id": f"call_{n}",
            "type": "function",
            "function": {"name": reply["name"], "arguments": json.dumps(reply["arguments"])},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.function is not None:
            reply = self.function(body)
        elif self.replies:
            reply = self.replies.pop(0)
        else:
            return JSONResponse({"error": {"message": "no scripted replies left"}}, status_code=500)
        message = self._message(reply, len(self.requests))
        usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return JSONResponse(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [choice],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[str]:
            if message.get("tool_calls"):
                call = message["tool_calls"][0]
                deltas: list[dict[str, Any]] = [{"role": "assistant", "tool_calls": [{"index": 0, **call}]}]
            else:
                text = message["content"]
                deltas = [{"role": "assistant", "content": text[i : i + 5]} for i in range(0, len(text), 5)]
            for delta in deltas:
                chunk = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "model": "fake",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            done = {
                "id": "x",
                "object": "chat.completion.chunk",
                "model": "fake",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": usage,
            }
            yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def models(self, _: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model"}]})


@contextmanager
def serve_fake_openai(
    replies: Sequence[Reply] = (), function: Callable[[dict[str, Any]], Reply] | None = None
) -> Iterator[FakeOpenAI]:
    """Run a `FakeOpenAI` on a free loopback port for the duration of the block."""
    fake = FakeOpenAI(list(replies), function)
    app = Starlette(
        routes=[Route("/v1/chat/completions", fake.chat, methods=["POST"]), Route("/v1/models", fake.models)]
    )
    with serve_app(app) as base:
        fake.url = f"{base}/v1"
        yield fake
