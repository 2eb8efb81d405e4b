"""A loopback proxy in front of `serve` that records every request Open WebUI sends to it.

Each request to `/v1/...` is forwarded unchanged (headers, body, streaming) to the upstream server.
Two JSON lines go to `requests.jsonl`: `"phase": "start"` when it comes, and `"phase": "end"` when
its response has ended, with its path, the model asked for, `stream`, how many `tools`, the status,
the end of the response text, and the whole request body (the `Authorization` header left out).
The browser run (`run.py`) reads that file to count requests per question, to wait for Open WebUI's
housekeeping to end, and to save the bodies the tests replay (tests/serve/data/openwebui/).

With `--fake-answer TEXT` there is no upstream: `/v1/models` lists `homelab-agent` and
`homelab-agent-chat`, and every chat completion answers TEXT (streamed when asked), so the browser
steps can be tried in seconds before a run with the real model.

Usage: python -m benchmarks.openwebui.recorder --upstream http://127.0.0.1:8765 --port 8766 --out DIR
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def build_app(upstream: str, out: Path, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """The proxy: forwards to `upstream`, appends one line per request to `out/requests.jsonl`."""
    out.mkdir(parents=True, exist_ok=True)
    journal = out / "requests.jsonl"
    http = httpx.AsyncClient(
        base_url=upstream, timeout=httpx.Timeout(900.0, connect=10.0), transport=transport
    )

    async def forward(request: Request) -> StreamingResponse:
        started = time.time()
        with journal.open("a") as f:
            f.write(json.dumps({"phase": "start", "at": started, "path": request.url.path}) + "\n")
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        sent = http.build_request(
            request.method, request.url.path, params=request.query_params, headers=headers, content=body
        )
        response = await http.send(sent, stream=True)
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        record: dict[str, Any] = {
            "at": started,
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "headers": sorted(k for k in headers if k.lower() != "authorization"),
        }
        if isinstance(parsed, dict):
            record |= {
                "model": parsed.get("model"),
                "stream": parsed.get("stream"),
                "tools": len(parsed.get("tools") or ()),
                "body": parsed,
            }
        record["phase"] = "end"
        chunks: list[bytes] = []

        async def relay() -> AsyncIterator[bytes]:
            async for chunk in response.aiter_bytes():
                if len(chunks) < 4096:
                    chunks.append(chunk)
                yield chunk

        async def finish() -> None:
            await response.aclose()
            record["ended"] = time.time()
            if record["path"].endswith("/chat/completions"):
                record["response"] = b"".join(chunks).decode(errors="replace")[-4000:]
            with journal.open("a") as f:
                f.write(json.dumps(record) + "\n")

        kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP | {"content-encoding"}}
        return StreamingResponse(
            relay(), status_code=response.status_code, headers=kept, background=BackgroundTask(finish)
        )

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE", "OPTIONS"])])


def fake_upstream(answer: str) -> httpx.MockTransport:
    """An OpenAI-compatible upstream that lists the two model ids and answers `answer` to everything."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            ids = ["homelab-agent", "homelab-agent-chat"]
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "homelab-agent"} for m in ids]
            return httpx.Response(200, json={"object": "list", "data": data})
        body = json.loads(request.content)
        if not body.get("stream"):
            message = {"role": "assistant", "content": answer}
            return httpx.Response(
                200,
                json={
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                },
            )

        def event(delta: dict[str, Any], finish: str | None = None) -> str:
            chunk = {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n"

        events = event({"role": "assistant", "content": ""}) + event({"content": answer}) + event({}, "stop")
        return httpx.Response(
            200, text=events + "data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
        )

    return httpx.MockTransport(handle)


def main() -> None:
    """Run the proxy on loopback until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", default="http://fake")
    parser.add_argument("--fake-answer", default=None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    transport = fake_upstream(args.fake_answer) if args.fake_answer is not None else None
    uvicorn.run(
        build_app(args.upstream, args.out, transport), host="127.0.0.1", port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
