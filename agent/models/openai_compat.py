"""A model behind OpenAI-compatible servers (llama-server, Ollama, vLLM, llama_cpp.server).

Speaks `POST {url}/chat/completions` over httpx. Each request carries the whole conversation and
the whole tool list, the same from turn to turn (the server's prompt cache holds; `cache_prompt`
for llama-server), and the server's constraint (`constraints`: llama-server's GBNF `grammar`,
vLLM's `structured_outputs`, a `response_format` JSON schema for Ollama) holds the turn to one
valid call to the grounded tools or a plain answer. The answer's text is read by the same parser as
in-process; with `constraint = "none"` the server's native `tool_calls` are read instead, and a call
left in the content is still found. With `on_text` the request streams (SSE) and the final answer's
text is forwarded as it arrives; tool-call text never is. Tries that fail are tried again on
another server or later (`endpoints`); the usage says how many prompt tokens the server had cached.

A server that answers something other than JSON or server-sent events (a login page, a proxy's
error page) is a `ModelError` that says so. URLs in messages are shown without credentials.

Not here: prompts and templates (the server's job), local inference (see `agent.models.llama`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import structlog

from agent.exceptions import ContextOverflowError, ModelError
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice, Turn
from agent.models.chat_template import HERMES, CallSyntax, call_syntax
from agent.models.constraints import ConstraintKind, answer_of, constraint_fields, kind_from_models
from agent.models.endpoints import (
    RETRY_STATUSES,
    Endpoint,
    Endpoints,
    RetryPolicy,
    ServerBusyError,
    retry_after,
)
from agent.models.stops import StopText, cut_at_stop
from agent.models.toolcalls import AnswerStream, ParsedOutput, parse_output
from agent.models.wire import message_dict, tool_dict
from homelab_common.redact import redact_urls

__all__ = ["OpenAICompatModel"]

log = structlog.get_logger(__name__)


def _native_calls(raw_calls: list[dict[str, Any]]) -> ParsedOutput:
    calls: list[ToolCall] = []
    for raw in raw_calls:
        function = raw.get("function") or {}
        name, arguments = function.get("name"), function.get("arguments") or "{}"
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError as exc:
            return ParsedOutput(
                text="", error=f"the arguments of {name} are not valid JSON ({exc.msg}); call it again"
            )
        if not isinstance(name, str) or not isinstance(args, dict):
            return ParsedOutput(text="", error="a tool call needs a name and a JSON object of arguments")
        calls.append(ToolCall(name=name, arguments=args, id=raw.get("id") or ToolCall(name=name).id))
    return ParsedOutput(text="", tool_calls=calls)


class OpenAICompatModel:
    """A chat model behind one or more OpenAI-compatible HTTP servers."""

    def __init__(
        self,
        *,
        base_url: str | Sequence[str],
        model: str,
        name: str = "openai",
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        constraint: ConstraintKind | Literal["auto"] = "auto",
        retry: RetryPolicy | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("OpenAICompatModel needs at least one base_url")
        self._endpoints = Endpoints(
            [
                Endpoint(
                    url.rstrip("/"),
                    httpx.AsyncClient(
                        base_url=url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
                    ),
                )
                for url in urls
            ],
            retry or RetryPolicy(),
        )
        self._model, self._name = model, name
        self._where = self._endpoints.where  # for messages: no credentials
        self._temperature, self._max_tokens = temperature, max_tokens
        self._constraint = constraint
        self._kind: ConstraintKind | None = None if constraint == "auto" else constraint
        self._syntax: CallSyntax | None = None  # read from llama-server's /props; else Hermes

    @property
    def name(self) -> str:
        """The model's name in traces."""
        return self._name

    @property
    def constraint(self) -> ConstraintKind | None:
        """The constraint this model's server is sent (None: not detected yet)."""
        return self._kind

    async def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        *,
        on_text: TextSink | None = None,
        tool_choice: ToolChoice = "auto",
        calls: Sequence[ToolSpec] | None = None,
        stop: Sequence[str] = (),
    ) -> ModelResponse:
        """One chat completion: a call or a final answer (streamed to `on_text`), under the
        server's constraint (`agent.models.constraints`).

        `stop` is applied here, on the answer as it streams (the stream is closed at a stop, which
        ends the server's generation), so the answer is known to have reached it.

        The request always carries all of `tools`, so its prompt is the same from turn to turn and
        the server's prompt cache holds; `calls` and `tool_choice` narrow the constraint only.
        A try that fails on the wire or with 429/502/503/504 is tried again, on another server when
        there are several (`agent.models.endpoints`), until part of an answer was forwarded.
        """
        turn = Turn.of(tools, tool_choice, calls)
        forwarded: list[str] = []

        def sink(piece: str) -> None:
            forwarded.append(piece)
            if on_text is not None:
                on_text(piece)

        async def send(endpoint: Endpoint) -> _Reply:
            kind = await self._kind_on(endpoint)
            payload = self._payload(messages, tools, tool_choice, turn, kind, stream=on_text is not None)
            started = time.perf_counter()
            if on_text is None:
                response = await endpoint.client.post("/chat/completions", json=payload)
                self._raise_for_status(response)
                body = self._json(response)
                message = (body.get("choices") or [{}])[0].get("message") or {}
                content, raw_calls = message.get("content") or "", message.get("tool_calls") or []
                return _Reply(kind, content, raw_calls, body, started, started, None)
            # a json_schema answer arrives as {"answer": ...}: it is sent to on_text once unwrapped
            stops = StopText(sink, stop)
            stream = AnswerStream(stops.feed if kind != "json_schema" else lambda _: None)
            content, raw_calls, body, first = await self._stream(
                endpoint, payload, stream, started, lambda: stops.hit is not None
            )
            return _Reply(kind, content, raw_calls, body, started, first, stream, stops)

        reply = await self._endpoints.call(send, retry=lambda: not forwarded)
        ended = time.perf_counter()
        content, raw_calls, stream = reply.content, reply.raw_calls, reply.stream
        names = [t.name for t in tools]
        answer = answer_of(content) if reply.kind == "json_schema" and not raw_calls else None
        if raw_calls:
            parsed = _native_calls(raw_calls)
            if not parsed.error:
                parsed = ParsedOutput(text=content.strip(), tool_calls=parsed.tool_calls)
        elif answer is not None:
            parsed = ParsedOutput(text=answer)
        else:
            parsed = parse_output(content, names, hint=(self._syntax or HERMES).hint)
        hit = None
        if not parsed.tool_calls and parsed.error is None:
            cut, hit = cut_at_stop(answer if answer is not None else content, stop)
            parsed = ParsedOutput(text=cut.strip()) if hit else parsed
        if stream is not None and reply.stops is not None:
            if reply.kind == "json_schema" and not parsed.tool_calls and parsed.error is None and parsed.text:
                sink(parsed.text)
            elif hit is None:
                stream.finish(parsed)
                reply.stops.flush()
        usage = _usage(reply.body, reply.started, reply.first, ended)
        log.info(
            "model.respond",
            model=self._name,
            input_tokens=usage.input_tokens,
            cached_tokens=usage.cached_tokens,
            output_tokens=usage.output_tokens,
            prefill_s=round(usage.prefill_s, 3),
            decode_s=round(usage.decode_s, 3),
            tool_calls=len(parsed.tool_calls),
            parse_error=parsed.error is not None,
            native_calls=bool(raw_calls),
            constraint=reply.kind,
        )
        log.debug("model.output", model=self._name, raw=content)
        return ModelResponse(
            text=parsed.text,
            tool_calls=parsed.tool_calls,
            usage=usage,
            model=self._name,
            raw=content,
            parse_error=parsed.error,
            stop=hit,
        )

    def _payload(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        tool_choice: ToolChoice,
        turn: Turn,
        kind: ConstraintKind,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """The request body: the same messages and tools every turn, the turn in the constraint."""
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": [message_dict(m) for m in messages],
            "temperature": self._temperature,
            "max_tokens": self._max_tokens,
            "stream": stream,
        }
        if tools:
            payload["tools"] = [tool_dict(t) for t in tools]
        if kind == "none":
            if tools:
                payload["tool_choice"] = tool_choice
        else:
            payload.update(constraint_fields(kind, turn, self._syntax or HERMES))
            if not tools:
                payload.pop("tool_choice", None)
            if stream:
                payload["stream_options"] = {"include_usage": True}
        if kind == "grammar":
            payload["cache_prompt"] = True  # llama-server: reuse the slot's KV cache for the prefix
        return payload

    async def _kind_on(self, endpoint: Endpoint) -> ConstraintKind:
        """The constraint kind, detected on `endpoint` the first time (`constraint = "auto"`)."""
        if self._kind is not None and (self._kind != "grammar" or self._syntax is not None):
            return self._kind
        kind: ConstraintKind | None = self._kind
        if kind is None:
            response = await endpoint.client.get("/models")
            if response.status_code in RETRY_STATUSES:
                self._raise_for_status(response)  # busy or loading: tried again (`endpoints`)
            try:
                kind = kind_from_models(response.json()) if response.status_code == 200 else None
            except ValueError:
                kind = None
            if kind is None:
                version = await self._answers(endpoint, "/api/version")  # Ollama's
                kind = "json_schema" if isinstance(version, dict) and "version" in version else "none"
            log.info("model.constraint", model=self._name, server=endpoint.where, constraint=kind)
        if kind == "grammar":  # llama-server tells its chat template: write calls in its syntax
            props = await self._answers(endpoint, "/props")
            source = props.get("chat_template") if isinstance(props, dict) else None
            self._syntax = call_syntax(source) if isinstance(source, str) else HERMES
        self._kind = kind
        return kind

    async def _answers(self, endpoint: Endpoint, path: str) -> Any:
        """The JSON `path` answers at the server's root (not under /v1), or None."""
        root = endpoint.url.removesuffix("/v1")
        try:
            response = await endpoint.client.get(f"{root}{path}", timeout=5)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def _stream(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        stream: AnswerStream,
        started: float,
        halt: Callable[[], bool] = lambda: False,
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any], float]:
        content, first = "", 0.0
        last: dict[str, Any] = {}
        calls: dict[int, dict[str, Any]] = {}  # index -> {"id", "function": {"name", "arguments"}}
        kind = ""
        async with endpoint.client.stream("POST", "/chat/completions", json=payload) as response:
            if response.status_code >= 400:
                await response.aread()
                self._raise_for_status(response)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in ("text/event-stream", "application/json", "application/x-ndjson", ""):
                raise self._not_openai(kind)
            events = 0
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    events += 1
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise self._not_openai(kind, "an event that is not JSON") from None
                events += 1
                last = chunk if chunk.get("usage") or chunk.get("timings") else last
                delta = ((chunk.get("choices") or [{}])[0] or {}).get("delta") or {}
                if not first and (delta.get("content") or delta.get("tool_calls")):
                    first = time.perf_counter()
                if delta.get("content"):
                    content += delta["content"]
                    if not calls:
                        stream.feed(delta["content"])
                    if halt():
                        break  # closing the stream ends the server's generation
                for call in delta.get("tool_calls") or []:
                    slot = calls.setdefault(
                        call.get("index", 0), {"id": None, "function": {"name": "", "arguments": ""}}
                    )
                    slot["id"] = call.get("id") or slot["id"]
                    function = call.get("function") or {}
                    slot["function"]["name"] += function.get("name") or ""
                    slot["function"]["arguments"] += function.get("arguments") or ""
        if not events:
            raise self._not_openai(kind or "no content type", "no server-sent events")
        return content, [calls[i] for i in sorted(calls)], last, first or time.perf_counter()

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = response.json()
        except ValueError:
            raise self._not_openai(kind or "no content type") from None
        if not isinstance(body, dict):
            raise self._not_openai(kind, "JSON that is not an object")
        return body

    def _not_openai(self, kind: str, what: str = "") -> ModelError:
        got = what or "something other than JSON"
        return ModelError(
            f"the model server at {self._where} answered {got} ({kind}): it is not an OpenAI-compatible "
            f"API (a login page or a proxy in the way?); check models.{self._name}.url, which usually "
            "ends in /v1"
        )

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = redact_urls(response.text.strip()[:500])
        lowered = detail.lower()
        if status in RETRY_STATUSES:
            raise ServerBusyError(status, detail, retry_after(response.headers.get("retry-after")))
        if status == 400 and ("context" in lowered and ("exceed" in lowered or "length" in lowered)):
            raise ContextOverflowError(
                f"the prompt does not fit the context of {self._model!r} on {self._where} "
                f"({detail}); "
                "raise the server's context size, lower agent.tool_result_tokens, or start a new conversation"
            )
        raise ModelError(f"the model server at {self._where} answered HTTP {status}: {detail}")

    async def check(self) -> None:
        """Raise `ModelError` unless one of the servers answers `GET /models` now (within 3 s)."""
        problems = []
        for endpoint in self._endpoints.endpoints:
            try:
                response = await endpoint.client.get("/models", timeout=3)
            except httpx.HTTPError as exc:
                problems.append(
                    f"cannot reach the model server at {endpoint.where}: {redact_urls(repr(exc))}"
                )
                continue
            if response.status_code < 500:
                return
            problems.append(f"the model server at {endpoint.where} answers HTTP {response.status_code}")
        raise ModelError("; ".join(problems))

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        for endpoint in self._endpoints.endpoints:
            await endpoint.client.aclose()


@dataclass(frozen=True)
class _Reply:
    kind: ConstraintKind
    content: str
    raw_calls: list[dict[str, Any]]
    body: dict[str, Any]  # the response, or the stream's last event with usage or timings
    started: float
    first: float  # when the first token arrived (streaming), else `started`
    stream: AnswerStream | None
    stops: StopText | None = None  # where a streamed answer was cut, if it was


def _usage(body: dict[str, Any], started: float, first: float, ended: float) -> Usage:
    """Tokens from `usage` (cached: `prompt_tokens_details.cached_tokens`, or llama-server's
    `timings.cache_n`), seconds from our clock (split at the first token when streamed, else at
    llama-server's `timings.prompt_ms` when it sends them)."""
    counts = body.get("usage") or {}
    timings = body.get("timings") or {}
    cached = (counts.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is None:
        cached = timings.get("cache_n")
    prompt = counts.get("prompt_tokens")
    if prompt is None and timings:
        prompt = int(timings.get("prompt_n") or 0) + int(timings.get("cache_n") or 0)
    prefill = first - started
    if prefill <= 0 and timings.get("prompt_ms") is not None:  # not streamed: llama-server's own split
        prefill = min(float(timings["prompt_ms"]) / 1000, ended - started)
    return Usage(
        input_tokens=int(prompt or 0),
        cached_tokens=int(cached or 0),
        output_tokens=int(counts.get("completion_tokens") or timings.get("predicted_n") or 0),
        prefill_s=prefill,
        decode_s=ended - started - prefill,
    )
