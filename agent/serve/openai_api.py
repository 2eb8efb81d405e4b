"""An OpenAI-compatible `/v1/chat/completions` and `/v1/models`, so chat front ends can use the agent.

The last user message is the question; earlier user and assistant messages are the history (system
messages are ignored: the agent has its own prompt). `stream: true` sends `chat.completion.chunk`
server-sent events as the answer is generated. A full queue is a 429 with Retry-After and an
OpenAI-style error body. A client that goes away cancels its run, waiting or running, and frees its
place. Auth, metrics and routing live in `agent.serve.http`.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agent.exceptions import HomelabAgentError, ModelNotFoundError
from agent.messages import Message
from agent.models.base import TextSink
from agent.serve.queue import QueueFullError, Ticket
from agent.serve.service import AGENT_MODEL_ID, Service
from agent.trace import RunResult

__all__ = ["ChatRequest", "openai_routes"]

log = structlog.get_logger(__name__)


class ChatMessage(BaseModel):
    """One message of a chat request; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The text of the message, parts joined."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields of a chat completion request the agent uses; the rest are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = AGENT_MODEL_ID
    messages: list[ChatMessage]
    stream: bool = False

    def split(self) -> tuple[str, list[Message]]:
        """The question (the last user message) and the history before it."""
        users = [i for i, m in enumerate(self.messages) if m.role == "user"]
        if not users:
            raise ValueError("messages must contain at least one user message")
        last = users[-1]
        history = [
            Message.user(m.text) if m.role == "user" else Message.assistant(m.text)
            for m in self.messages[:last]
            if m.role in ("user", "assistant") and m.text
        ]
        return self.messages[last].text, history


def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> JSONResponse:
    """An OpenAI-style error response."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _busy(exc: QueueFullError) -> JSONResponse:
    return error(429, str(exc), "rate_limit_error", "queue_full", **{"Retry-After": str(exc.retry_after)})


def _completion(cid: str, model: str, result: RunResult) -> dict[str, Any]:
    u = result.usage
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": result.answer}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": u.input_tokens,
            "completion_tokens": u.output_tokens,
            "total_tokens": u.input_tokens + u.output_tokens,
        },
        "homelab_agent": result.model_dump(mode="json"),  # the trace: steps, tool calls, timings
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class AgentStream(Response):
    """Server-sent `chat.completion.chunk` events while the agent answers; cancelled on disconnect."""

    def __init__(
        self, run: Callable[[TextSink], Awaitable[RunResult]], ticket: Ticket, cid: str, model: str
    ) -> None:
        super().__init__(media_type="text/event-stream")
        self._run, self._ticket, self._cid, self._model = run, ticket, cid, model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the answer; a disconnect cancels the run and frees the queue slot."""
        out, pieces = anyio.create_memory_object_stream[bytes](math.inf)
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        finished = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    await _until_disconnect(receive)
                    if not finished:
                        log.info("http.client_gone", endpoint="/v1/chat/completions")
                    tg.cancel_scope.cancel()

                async def produce() -> None:
                    with out:
                        out.send_nowait(_chunk(self._cid, self._model, {"role": "assistant", "content": ""}))
                        try:
                            await self._run(
                                lambda piece: out.send_nowait(
                                    _chunk(self._cid, self._model, {"content": piece})
                                )
                            )
                        except (HomelabAgentError, QueueFullError) as exc:
                            problem = {
                                "error": {
                                    "message": str(exc),
                                    "type": "agent_error",
                                    "code": type(exc).__name__,
                                }
                            }
                            out.send_nowait(f"data: {json.dumps(problem)}\n\n".encode())
                        else:
                            out.send_nowait(_chunk(self._cid, self._model, {}, "stop"))
                        out.send_nowait(b"data: [DONE]\n\n")

                tg.start_soon(watch)
                tg.start_soon(produce)
                async with pieces:
                    async for data in pieces:
                        await send({"type": "http.response.body", "body": data, "more_body": True})
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                tg.cancel_scope.cancel()
        finally:
            self._ticket.release()


async def _answer_unless_gone(request: Request, run: Callable[[], Awaitable[RunResult]]) -> RunResult | None:
    """Run `run`, cancelling it if the client disconnects first (then None)."""
    outcome: list[RunResult | BaseException] = []
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            await _until_disconnect(request.receive)
            log.info("http.client_gone", endpoint="/v1/chat/completions")
            tg.cancel_scope.cancel()

        async def work() -> None:
            try:
                outcome.append(await run())
            except Exception as exc:
                outcome.append(exc)
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(work)
    if not outcome:
        return None
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


async def chat_completions(request: Request) -> Response:
    """POST /v1/chat/completions."""
    service: Service = request.app.state.service
    try:
        chat = ChatRequest.model_validate(await request.json())
        question, history = chat.split()
    except (ValidationError, ValueError) as exc:
        return error(400, f"invalid request: {exc}", "invalid_request_error")
    if chat.model not in service.model_ids:
        return error(
            404,
            f"no model named {chat.model!r}; the models are: {', '.join(service.model_ids)}",
            "invalid_request_error",
            "model_not_found",
        )
    try:
        ticket = service.reserve()
    except QueueFullError as exc:
        return _busy(exc)
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if chat.stream:
        return AgentStream(
            lambda sink: service.answer(
                question, history=history, on_text=sink, model=chat.model, ticket=ticket
            ),
            ticket,
            cid,
            chat.model,
        )
    try:
        result = await _answer_unless_gone(
            request, lambda: service.answer(question, history=history, model=chat.model, ticket=ticket)
        )
    except ModelNotFoundError as exc:
        return error(404, str(exc), "invalid_request_error", "model_not_found")
    except HomelabAgentError as exc:  # the run failed (model, step limit), or its tools could not be listed
        return error(500, str(exc), "agent_error", type(exc).__name__)
    finally:
        ticket.release()
    if result is None:
        return Response(status_code=499)  # nobody is listening; for the logs and metrics only
    return JSONResponse(_completion(cid, chat.model, result))


async def list_models(request: Request) -> JSONResponse:
    """GET /v1/models: the agent, then each configured model."""
    service: Service = request.app.state.service
    created = int(time.time())
    data = [
        {"id": m, "object": "model", "created": created, "owned_by": "homelab-agent"}
        for m in service.model_ids
    ]
    return JSONResponse({"object": "list", "data": data})


def openai_routes() -> list[Route]:
    """The `/v1` routes; they find the `Service` on `app.state.service`."""
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
    ]
