"""A model behind an OpenAI-compatible server (llama-server, Ollama, vLLM, llama_cpp.server).

Speaks `POST {url}/chat/completions` with `tools` over httpx; reads native `tool_calls`, and falls
back to the text parser when the server leaves a call in the content (servers whose template
renders tools but does not parse the model's answer). With `on_text` the request streams (SSE)
and the final answer's text is forwarded as it arrives; tool-call text never is.

A server that answers something other than JSON or server-sent events (a login page, a proxy's
error page) is a `ModelError` that says so. URLs in messages are shown without credentials.

Not here: prompts and templates (the server's job), local inference (see `agent.models.llama`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import httpx
import structlog

from agent.exceptions import ContextOverflowError, ModelError
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice
from agent.models.stops import StopText, cut_at_stop
from agent.models.toolcalls import AnswerStream, ParsedOutput, parse_output
from agent.models.wire import message_dict, tool_dict
from homelab_common.redact import redact_url, redact_urls

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
    """A chat model behind an OpenAI-compatible HTTP API."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        name: str = "openai",
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )
        self._model, self._name = model, name
        self._where = redact_url(base_url.rstrip("/"))  # for messages: no credentials
        self._temperature, self._max_tokens = temperature, max_tokens

    @property
    def name(self) -> str:
        """The model's name in traces."""
        return self._name

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
        """One chat completion: native or text tool calls, or a final answer (streamed to `on_text`).

        `stop` is applied here, on the text as it streams (the stream is closed at a stop, which
        ends the server's generation), so the answer is known to have reached it.

        The server cannot be held to narrowed schemas, so with `calls` it is offered those instead
        of `tools` (what the model sees changes; a remote prompt cache is the server's business).
        """
        if calls is not None and tool_choice != "none":
            tools = calls
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": [message_dict(m) for m in messages],
            "temperature": self._temperature,
            "max_tokens": self._max_tokens,
            "stream": on_text is not None,
        }
        if tools:
            payload["tools"] = [tool_dict(t) for t in tools]
            payload["tool_choice"] = tool_choice
        started = time.perf_counter()
        stream: AnswerStream | None = None
        stops: StopText | None = None
        try:
            if on_text is None:
                response = await self._client.post("/chat/completions", json=payload)
                self._raise_for_status(response.status_code, response.text)
                body = self._json(response)
                first = started
                message = (body.get("choices") or [{}])[0].get("message") or {}
                content, raw_calls, usage_body = (
                    message.get("content") or "",
                    message.get("tool_calls") or [],
                    body,
                )
            else:
                stops = StopText(on_text, stop)
                stream = AnswerStream(stops.feed)
                content, raw_calls, usage_body, first = await self._stream(payload, stream, stops)
        except httpx.HTTPError as exc:
            raise ModelError(
                f"cannot reach the model server at {self._where}: {redact_urls(repr(exc))}"
            ) from None
        ended = time.perf_counter()
        names = [t.name for t in tools]
        parsed = _native_calls(raw_calls) if raw_calls else parse_output(content, names)
        if raw_calls and not parsed.error:
            parsed = ParsedOutput(text=content.strip(), tool_calls=parsed.tool_calls)
        hit = None
        if not parsed.tool_calls and parsed.error is None:
            answer, hit = cut_at_stop(content, stop)
            parsed = ParsedOutput(text=answer.strip()) if hit else parsed
        if stream is not None and stops is not None and not hit:
            stream.finish(parsed)
            stops.flush()
        counts = usage_body.get("usage") or {}
        usage = Usage(
            input_tokens=int(counts.get("prompt_tokens") or 0),
            cached_tokens=int((counts.get("prompt_tokens_details") or {}).get("cached_tokens") or 0),
            output_tokens=int(counts.get("completion_tokens") or 0),
            prefill_s=first - started,
            decode_s=ended - first,
        )
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

    async def _stream(
        self, payload: dict[str, Any], stream: AnswerStream, stops: StopText
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any], float]:
        content, first = "", 0.0
        last: dict[str, Any] = {}
        calls: dict[int, dict[str, Any]] = {}  # index -> {"id", "function": {"name", "arguments"}}
        async with self._client.stream("POST", "/chat/completions", json=payload) as response:
            if response.status_code >= 400:
                self._raise_for_status(
                    response.status_code, (await response.aread()).decode(errors="replace")
                )
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
                last = chunk if chunk.get("usage") else last
                delta = ((chunk.get("choices") or [{}])[0] or {}).get("delta") or {}
                if not first and (delta.get("content") or delta.get("tool_calls")):
                    first = time.perf_counter()
                if delta.get("content"):
                    content += delta["content"]
                    if not calls:
                        stream.feed(delta["content"])
                    if stops.hit is not None:
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

    def _raise_for_status(self, status: int, body: str) -> None:
        if status < 400:
            return
        detail = body.strip()[:500]
        lowered = detail.lower()
        if status == 400 and ("context" in lowered and ("exceed" in lowered or "length" in lowered)):
            raise ContextOverflowError(
                f"the prompt does not fit the context of {self._model!r} on {self._where} "
                f"({detail}); "
                "raise the server's context size, lower agent.tool_result_tokens, or start a new conversation"
            )
        raise ModelError(f"the model server at {self._where} answered HTTP {status}: {redact_urls(detail)}")

    async def check(self) -> None:
        """Raise `ModelError` unless the server answers `GET /models` now (within 3 s)."""
        try:
            response = await self._client.get("/models", timeout=3)
        except httpx.HTTPError as exc:
            raise ModelError(
                f"cannot reach the model server at {self._where}: {redact_urls(repr(exc))}"
            ) from None
        if response.status_code >= 500:
            raise ModelError(f"the model server at {self._where} answers HTTP {response.status_code}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
