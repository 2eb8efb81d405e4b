"""An OpenAI-compatible `/v1/chat/completions` and `/v1/models`, so chat front ends can use the agent.

The last user message is the question; earlier user and assistant messages are the history (system
messages are ignored: the agent has its own prompt). The model `homelab-agent-chat` is the plain
model instead: the answering model on the client's messages as they are (system messages included),
one turn, no tools, no agent run; it is what a chat UI's housekeeping (titles, tags, follow-up
suggestions) should use. `stream: true` sends `chat.completion.chunk` server-sent events as the
answer is generated, and with `stream_options.include_usage` a last chunk with the token counts.
The client's own `tools`/`functions`/`tool_choice` (Open WebUI attaches its built-in tools to every
chat) are left out: the agent answers with its own tools (the MCP servers in its config), and the
log records how many client tools it ignored (`openai.client_tools_ignored`).
What the agent cannot honour is refused with a 400 that says so: `n` above 1 and a `response_format`
other than text. A conversation whose text exceeds `serve.max_history_bytes` is a 413. A full queue
is a 429 with Retry-After, decided before the body is parsed. Every error sent to a client, as a
status or inside a stream, is also logged (`openai.error`: status, type, code, never the body). A
client that goes away cancels its run, waiting or running, and frees its place. Auth, the request
guard, metrics and routing live in `agent.serve.http` and `agent.serve.guard`.

A write the agent wants to run is asked about in the chat itself (`agent.serve.chat_approval`):
the answer says what would be done and how to allow it, and the user's next message, yes or no,
decides. An answer to an approval that is not pending (used, expired, another caller's or
conversation's) is a 409.
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
from agent.serve.chat_approval import answer_in_chat
from agent.serve.pending import NotPendingError, caller
from agent.serve.queue import QueueFullError, Ticket
from agent.serve.service import AGENT_MODEL_ID, CHAT_MODEL_ID, Service
from agent.trace import RunResult
from homelab_common.redact import redact_urls

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


class StreamOptions(BaseModel):
    """`stream_options` of a chat completion request."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields of a chat completion request the agent uses; the rest are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = AGENT_MODEL_ID
    messages: list[ChatMessage]
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    tool_choice: Any = None
    user: Any = None  # the end user, as the client names them (an approval is bound to it)

    @property
    def client_tools(self) -> int:
        """How many tools (and legacy functions) the client attached; the agent leaves them out."""
        return len(self.tools or ()) + len(self.functions or ())

    def unsupported(self) -> tuple[str, str] | None:
        """What this request asks for that the agent cannot honour, as (message, param), or None."""
        if self.n is not None and self.n != 1:
            return "n must be 1: the agent gives one answer per question", "n"
        kind = (self.response_format or {}).get("type", "text")
        if kind != "text":
            return (
                f"response_format {kind!r} is not supported: the agent answers in plain text; "
                "ask for the format in the question instead",
                "response_format",
            )
        return None

    def text_bytes(self) -> int:
        """The size of the conversation's text in bytes (a little per message for its framing)."""
        return sum(len(m.text.encode()) + 16 for m in self.messages)

    def turns(self) -> list[tuple[str, str]]:
        """The (role, text) user and assistant turns with text, the question last."""
        return [(m.role, m.text) for m in self.messages if m.role in ("user", "assistant") and m.text]

    def conversation(self) -> list[Message]:
        """The messages as the plain model reads them: system, user and assistant text, in order."""
        turns: list[Message] = []
        for m in self.messages:
            if m.role in ("system", "developer") and m.text:
                turns.append(Message.system(m.text))
            elif m.role == "user":
                turns.append(Message.user(m.text))
            elif m.role == "assistant" and m.text:
                turns.append(Message.assistant(m.text))
        return turns

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


def error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    param: str | None = None,
    **headers: str,
) -> JSONResponse:
    """An OpenAI-style error response (credentials inside URLs blanked), logged as `openai.error`."""
    log.info("openai.error", status=status, type=kind, code=code, param=param)
    body = {"error": {"message": redact_urls(message), "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _busy(exc: QueueFullError) -> JSONResponse:
    return error(429, str(exc), "rate_limit_error", "queue_full", **{"Retry-After": str(exc.retry_after)})


def _usage(result: RunResult) -> dict[str, int]:
    u = result.usage
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
    }


def _completion(cid: str, model: str, result: RunResult) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": result.answer}, "finish_reason": "stop"}
        ],
        "usage": _usage(result),
        "homelab_agent": result.model_dump(mode="json"),  # the trace: steps, tool calls, timings
    }


def _chunk(
    cid: str,
    model: str,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    usage: dict[str, int] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class AgentStream(Response):
    """Server-sent `chat.completion.chunk` events while the agent answers; cancelled on disconnect."""

    def __init__(
        self,
        run: Callable[[TextSink], Awaitable[RunResult]],
        ticket: Ticket,
        cid: str,
        model: str,
        include_usage: bool = False,
    ) -> None:
        super().__init__(media_type="text/event-stream")
        self._run, self._ticket, self._cid, self._model = run, ticket, cid, model
        self._include_usage = include_usage

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
                            result = await self._run(
                                lambda piece: out.send_nowait(
                                    _chunk(self._cid, self._model, {"content": piece})
                                )
                            )
                        except (HomelabAgentError, QueueFullError, NotPendingError) as exc:
                            log.info(
                                "openai.error",
                                status=200,
                                type="agent_error",
                                code=type(exc).__name__,
                                stream=True,
                            )
                            problem = {
                                "error": {
                                    "message": redact_urls(str(exc)),
                                    "type": "agent_error",
                                    "code": type(exc).__name__,
                                }
                            }
                            out.send_nowait(f"data: {json.dumps(problem)}\n\n".encode())
                        else:
                            out.send_nowait(_chunk(self._cid, self._model, {}, "stop"))
                            if self._include_usage:
                                out.send_nowait(_chunk(self._cid, self._model, None, usage=_usage(result)))
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


def _parse(body: bytes, max_history_bytes: int) -> ChatRequest | JSONResponse:
    """The request, or the error response that says what is wrong with it."""
    try:
        chat = ChatRequest.model_validate(json.loads(body))
        chat.split()
    except RecursionError:
        return error(400, "invalid request: the JSON is nested too deeply", "invalid_request_error")
    except (ValidationError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return error(400, f"invalid request: {exc}", "invalid_request_error")
    problem = chat.unsupported()
    if problem is not None:
        return error(400, problem[0], "invalid_request_error", "unsupported_parameter", problem[1])
    size = chat.text_bytes()
    if size > max_history_bytes:
        return error(
            413,
            f"the conversation is {size} bytes of text; this server takes at most {max_history_bytes} "
            "(serve.max_history_bytes): start a new conversation or send less history",
            "invalid_request_error",
            "conversation_too_long",
        )
    return chat


async def chat_completions(request: Request) -> Response:
    """POST /v1/chat/completions."""
    service: Service = request.app.state.service
    try:
        ticket = service.reserve()  # a full queue answers at once, before the body is parsed
    except QueueFullError as exc:
        return _busy(exc)
    handed_over = False
    try:
        parsed = _parse(await request.body(), service.settings.max_history_bytes)
        if isinstance(parsed, JSONResponse):
            return parsed
        chat = parsed
        if chat.model not in service.model_ids:
            return _no_such_model(chat.model, service)
        _, history = chat.split()
        if chat.client_tools or chat.tool_choice is not None:
            log.info(
                "openai.client_tools_ignored",
                count=chat.client_tools,
                tool_choice=chat.tool_choice if isinstance(chat.tool_choice, str) else None,
                model=chat.model,
            )
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        owner = _caller(request, chat)
        run: Callable[[TextSink | None], Awaitable[RunResult]]
        if chat.model == CHAT_MODEL_ID:
            turns = chat.conversation()
            run = lambda sink: service.chat(turns, on_text=sink, ticket=ticket)  # noqa: E731
        else:
            run = lambda sink: answer_in_chat(  # noqa: E731
                service,
                owner=owner,
                turns=chat.turns(),
                history=history,
                model=chat.model,
                on_text=sink,
                ticket=ticket,
            )
        if chat.stream:
            include_usage = chat.stream_options is not None and chat.stream_options.include_usage
            handed_over = True  # the stream releases the ticket when it ends
            return AgentStream(run, ticket, cid, chat.model, include_usage)
        try:
            result = await _answer_unless_gone(request, lambda: run(None))
        except NotPendingError as exc:
            return error(409, str(exc), "invalid_request_error", "approval_not_pending")
        except ModelNotFoundError as exc:
            return error(404, str(exc), "invalid_request_error", "model_not_found")
        except (
            HomelabAgentError
        ) as exc:  # the run failed (model, step limit), or its tools could not be listed
            return error(500, str(exc), "agent_error", type(exc).__name__)
        if result is None:
            return Response(status_code=499)  # nobody is listening; for the logs and metrics only
        return JSONResponse(_completion(cid, chat.model, result))
    finally:
        if not handed_over:
            ticket.release()


def _caller(request: Request, chat: ChatRequest) -> str:
    """Who asks: a hash of the bearer token and of the end user the client names (`user`, or
    Open WebUI's forwarded user id), never the token itself."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = (chat.user if isinstance(chat.user, str) else None) or request.headers.get("x-openwebui-user-id")
    return caller(token if scheme.lower() == "bearer" else None, user)


def _no_such_model(model: str, service: Service) -> JSONResponse:
    return error(
        404,
        f"no model named {model!r}; the models are: {', '.join(service.model_ids)}",
        "invalid_request_error",
        "model_not_found",
        "model",
    )


def _model_object(model: str, created: int) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": created, "owned_by": "homelab-agent"}


async def list_models(request: Request) -> JSONResponse:
    """GET /v1/models: the agent, the plain model, then each configured model."""
    service: Service = request.app.state.service
    data = [_model_object(m, service.started) for m in service.model_ids]
    return JSONResponse({"object": "list", "data": data})


async def retrieve_model(request: Request) -> JSONResponse:
    """GET /v1/models/{id}: one model, or 404."""
    service: Service = request.app.state.service
    model = request.path_params["model"]
    if model not in service.model_ids:
        return _no_such_model(model, service)
    return JSONResponse(_model_object(model, service.started))


def openai_routes() -> list[Route]:
    """The `/v1` routes; they find the `Service` on `app.state.service`."""
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", retrieve_model, methods=["GET"]),
    ]
