"""The peers' host: the OpenAI Agents SDK running its agent loop over one MCP stdio server, with
llama-server's OpenAI-compatible API as the model.

This is the loop a homelab user gets from a popular Python MCP host pointed at a local
llama-server: the SDK lists the server's tools, sends them with the conversation to
`/v1/chat/completions`, runs the tool calls the server parses out of the model's output (llama.cpp's
`--jinja` tool-call parsing), and repeats until the model answers or `max_turns` runs out. We add
nothing to that loop: no grammar, no grounding, no cut tool results. What this module adds is the
record: one `agent.trace.Step` per model call (llama-server's own token counts and timings, the
tool calls and their results), so the benchmark scores a peer's answer like ours.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx2
from agents import (
    Agent,
    AgentsException,
    ModelSettings,
    OpenAIChatCompletionsModel,
    RunContextWrapper,
    RunHooks,
    Runner,
    Tool,
    set_tracing_disabled,
)
from agents.items import ModelResponse, ToolCallOutputItem
from agents.mcp import MCPServerStdio, MCPServerStdioParams
from openai import AsyncOpenAI, OpenAIError
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

from agent.messages import Usage
from agent.trace import Step, ToolCallRecord
from benchmarks.runner import Attempt

__all__ = ["PeerStack", "PeerStartError", "call_tool", "describe"]


class _Clock(RunHooks[Any]):
    """Times each model call and each tool call of one run (tool calls by their call id)."""

    def __init__(self) -> None:
        self.model_s: list[float] = []
        self.tool_s: dict[str, float] = {}
        self._llm_started = 0.0
        self._tools_started: dict[str, float] = {}

    async def on_llm_start(self, context: Any, agent: Any, system_prompt: Any, input_items: Any) -> None:
        self._llm_started = time.perf_counter()

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        self.model_s.append(time.perf_counter() - self._llm_started)

    async def on_tool_start(self, context: RunContextWrapper[Any], agent: Any, tool: Tool) -> None:
        self._tools_started[str(getattr(context, "tool_call_id", tool.name))] = time.perf_counter()

    async def on_tool_end(
        self, context: RunContextWrapper[Any], agent: Any, tool: Tool, result: object
    ) -> None:
        key = str(getattr(context, "tool_call_id", tool.name))
        self.tool_s[key] = time.perf_counter() - self._tools_started.pop(key, time.perf_counter())


class PeerStack:
    """One peer: the SDK's agent over `server` (an MCP stdio command) and a llama-server at `base_url`.

    Use as an async context manager: the MCP server starts once and stays up across questions, as
    in a host that keeps its servers running.
    """

    def __init__(
        self,
        label: str,
        *,
        base_url: str,
        model_name: str,
        command: str,
        args: list[str],
        env: Mapping[str, str],
        log: Path,
        instructions: str,
        max_turns: int,
        max_tokens: int,
        tool_choice: str = "auto",
        tool_timeout_s: float = 30.0,
    ) -> None:
        self.label = label
        self.max_turns = max_turns
        self._timings: list[dict[str, Any]] = []
        self._stack = AsyncExitStack()
        self.log = log
        self._server = MCPServerStdio(
            _logged(command, args, env, log), name="kanboard", client_session_timeout_seconds=tool_timeout_s
        )
        http = httpx2.AsyncClient(timeout=600, event_hooks={"response": [self._keep_timings]})
        client = AsyncOpenAI(base_url=base_url, api_key="no-key", http_client=http, max_retries=0)
        self._agent: Agent[Any] = Agent(
            name="kanboard",
            instructions=instructions,
            mcp_servers=[self._server],
            model=OpenAIChatCompletionsModel(model=model_name, openai_client=client),
            # "required": llama-server constrains the turn to a tool call with a grammar; the SDK
            # sets it back to "auto" after a call (Agent.reset_tool_choice), so the model can answer
            model_settings=ModelSettings(temperature=0.0, max_tokens=max_tokens, tool_choice=tool_choice),
        )
        set_tracing_disabled(True)  # the SDK would otherwise try to upload traces

    async def _keep_timings(self, response: httpx2.Response) -> None:
        """llama-server's own counts for each completion: cached/new prompt tokens, prefill/decode ms."""
        if response.url.path.endswith("/chat/completions"):
            await response.aread()
            try:
                self._timings.append(dict(json.loads(response.content).get("timings") or {}))
            except (ValueError, AttributeError):
                self._timings.append({})

    async def __aenter__(self) -> PeerStack:
        try:
            await self._stack.enter_async_context(self._server)
        except Exception as exc:  # the MCP server did not start: say why, in its own words
            raise PeerStartError(f"{describe(exc)}{_last_error(self.log)}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def tool_count(self) -> int:
        """How many tools the MCP server offers."""
        return len(await self._server.list_tools())

    async def run(self, question: str) -> Attempt:
        """Ask `question` in a new conversation; the answer, or the error that ended the run."""
        self._timings = []
        clock = _Clock()
        started = time.perf_counter()
        error: str | None = None
        answer = ""
        try:
            result = await Runner.run(self._agent, question, max_turns=self.max_turns, hooks=clock)
            responses, items = result.raw_responses, result.new_items
            answer = str(result.final_output or "")
        except AgentsException as exc:
            error = f"{type(exc).__name__}: {exc}"
            data = exc.run_data
            responses, items = (data.raw_responses, data.new_items) if data else ([], [])
        except OpenAIError as exc:  # llama-server refused the request (context full, template error...)
            error = f"{type(exc).__name__}: {exc}"
            responses, items = [], []
        except Exception as exc:  # the peer broke some other way (its MCP server died...): a finding
            error = f"{describe(exc)}{_last_error(self.log)}"
            responses, items = [], []
        duration = time.perf_counter() - started
        steps = _steps(responses, items, self._timings, clock)
        if error is not None and len(steps) < len(self._timings):
            # the failing request never became a response: record it as a step with no output
            steps.append(_step(len(steps) + 1, None, self._timings[len(steps)], clock, {}))
        return Attempt(answer=answer, steps=steps, duration_s=duration, error=error)


class PeerStartError(Exception):
    """A peer's MCP server did not start; the message is its error, with its log's last error line."""


async def call_tool(
    command: str, args: list[str], env: Mapping[str, str], log: Path, tool: str, arguments: dict[str, Any]
) -> str:
    """What the MCP server started by `command` returns for one call of `tool`, or how it failed."""
    server = MCPServerStdio(_logged(command, args, env, log), name="probe", client_session_timeout_seconds=60)
    try:
        async with server:
            result = await server.call_tool(tool, arguments)
    except Exception as exc:  # the server failed to start or to answer: that is what we report
        return f"{describe(exc)}{_last_error(log)}"
    return " ".join(getattr(part, "text", str(part)) for part in result.content)


def describe(exc: BaseException) -> str:
    """ "Type: message" of the error that started it all (the first leaf of an exception group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _logged(command: str, args: list[str], env: Mapping[str, str], log: Path) -> MCPServerStdioParams:
    """Stdio parameters that start `command` with its stderr appended to `log`, not mixed into ours."""
    log.parent.mkdir(parents=True, exist_ok=True)
    script = f'exec "$@" 2>>{shlex.quote(str(log))}'
    return {"command": "/bin/sh", "args": ["-c", script, "sh", command, *args], "env": dict(env)}


def _last_error(log: Path) -> str:
    """ " (log: LINE)" with the last line of `log` that mentions an error, or nothing."""
    if not log.is_file():
        return ""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if "error" in line.lower()]
    return f" (its log: {errors[-1]})" if errors else ""


def _steps(
    responses: list[ModelResponse], items: list[Any], timings: list[dict[str, Any]], clock: _Clock
) -> list[Step]:
    outputs = {item.call_id: item.output for item in items if isinstance(item, ToolCallOutputItem)}
    return [
        _step(i + 1, r, timings[i] if i < len(timings) else {}, clock, outputs)
        for i, r in enumerate(responses)
    ]


def _step(
    index: int,
    response: ModelResponse | None,
    t: dict[str, Any],
    clock: _Clock,
    outputs: dict[str | None, Any],
) -> Step:
    cached, new, out = int(t.get("cache_n", 0)), int(t.get("prompt_n", 0)), int(t.get("predicted_n", 0))
    usage = Usage(
        input_tokens=cached + new,
        cached_tokens=cached,
        output_tokens=out,
        prefill_s=float(t.get("prompt_ms", 0.0)) / 1000,
        decode_s=float(t.get("predicted_ms", 0.0)) / 1000,
    )
    if response is not None and not t:  # no timings (another server): the API's usage
        usage = Usage(input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens)
    text, calls = "", []
    for part in response.output if response is not None else []:
        if isinstance(part, ResponseFunctionToolCall):
            result = outputs.get(part.call_id)
            rendered = result if isinstance(result, str) else json.dumps(result, default=str)
            calls.append(
                ToolCallRecord(
                    id=part.call_id,
                    name=part.name,
                    arguments=_arguments(part.arguments),
                    result=rendered if result is not None else "(no result)",
                    is_error=result is None or _failed(rendered),
                    duration_s=clock.tool_s.get(part.call_id, 0.0),
                )
            )
        elif isinstance(part, ResponseOutputMessage):
            text += "".join(c.text for c in part.content if isinstance(c, ResponseOutputText))
    model_s = clock.model_s[index - 1] if index - 1 < len(clock.model_s) else 0.0
    return Step(index=index, model="llama-server", model_s=model_s, usage=usage, text=text, tool_calls=calls)


def _arguments(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"(unparsed)": raw}
    return parsed if isinstance(parsed, dict) else {"(value)": parsed}


def _failed(result: str) -> bool:
    """Whether a tool result says it failed: an MCP error, or kanboard-mcp's `"success": false`."""
    text = result.strip()
    if text.startswith(("An error occurred while running the tool", "Error")):
        return True
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    if isinstance(parsed, dict) and parsed.get("type") == "text" and isinstance(parsed.get("text"), str):
        return _failed(parsed["text"])
    return isinstance(parsed, dict) and parsed.get("success") is False
