"""The agent loop: ask the model, run its tool calls, repeat until it answers.

One run is a small state machine over `RunState`:

    request model ──> tool calls? ──yes──> run them (concurrently) ──> request model ...
                          │no
                          ├── unreadable output ──> tell the model, request again
                          └── text ──> done

Tool problems the model caused (unknown tool, bad arguments, a tool error, a crashed server)
become observations and the run goes on; everything else propagates. A hard step limit ends in
`MaxStepsError`. This module does not build models, connect servers or route: see `agent.app`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import structlog

from agent.config import AgentSettings
from agent.exceptions import MaxStepsError, ToolArgumentsError, ToolError, ToolNotFoundError
from agent.grounding import ground
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import Model, TextSink
from agent.system_prompt import fill_prompt, read_prompt
from agent.tokens import truncate
from agent.toolsets.base import Toolset
from agent.trace import RunResult, Step, ToolCallRecord
from agent.validation import check_call

__all__ = ["CORRECTION_PREFIX", "ERROR_PREFIX", "Agent", "Session", "StepHook"]

log = structlog.get_logger(__name__)

CORRECTION_PREFIX = (
    "I could not use that:"  # starts the user turn that tells the model its output was unusable
)
ERROR_PREFIX = "Error"  # starts every failed tool result the model reads

StepHook = Callable[[Step], Awaitable[None] | None]


@dataclass
class RunState:
    """Everything one run knows: the conversation so far, the step count, usage, and the trace."""

    messages: list[Message]
    tools: list[ToolSpec]
    step: int = 0
    usage: Usage = field(default_factory=Usage)
    steps: list[Step] = field(default_factory=list)


@dataclass
class Agent:
    """Answers questions with `model`, calling tools from `toolset`."""

    model: Model
    toolset: Toolset
    settings: AgentSettings = field(default_factory=AgentSettings)
    system_prompt: str | None = None  # a template ("{today}", "{timezone}"); None: the packaged one

    async def run(
        self,
        question: str,
        *,
        history: Sequence[Message] = (),
        on_text: TextSink | None = None,
        on_step: StepHook | None = None,
    ) -> RunResult:
        """Answer `question` after `history`; stream the final answer through `on_text`.

        Raises:
            MaxStepsError: the model was still calling tools after `settings.max_steps` turns.
            RunError: the model or the configuration failed.
        """
        started = time.perf_counter()
        system = fill_prompt(self.system_prompt or read_prompt(None), self.settings.timezone)
        tools = await self.toolset.list_tools()
        guide = await self.toolset.instructions() if tools else ""
        if guide:
            system = f"{system}\n\n{guide}"
        state = RunState([Message.system(system), *history, Message.user(question)], tools)
        while True:
            if state.step >= self.settings.max_steps:
                raise MaxStepsError(self.settings.max_steps)
            state.step += 1
            response, model_s = await self._request(state, on_text)
            step = Step(
                index=state.step,
                model=response.model or self.model.name,
                model_s=model_s,
                usage=response.usage,
                text=response.text,
                parse_error=response.parse_error,
                route=response.route,
            )
            state.steps.append(step)
            state.usage += response.usage
            if response.tool_calls:
                state.messages.append(Message.assistant(response.text, response.tool_calls))
                step.tool_calls = await self._run_tools(response.tool_calls, state.tools)
                state.messages.extend(
                    Message.tool(call, record.result)
                    for call, record in zip(response.tool_calls, step.tool_calls, strict=True)
                )
            elif response.parse_error or not response.text.strip():
                problem = response.parse_error or "your reply was empty"
                state.messages.append(Message.assistant(response.raw or response.text))
                state.messages.append(
                    Message.user(
                        f"{CORRECTION_PREFIX} {problem}. Call one tool correctly, or answer in plain text."
                    )
                )
            await _call_hook(on_step, step)
            if not response.tool_calls and response.text.strip() and not response.parse_error:
                answer = response.text.strip()
                state.messages.append(Message.assistant(answer))
                result = RunResult(
                    answer=answer,
                    steps=state.steps,
                    usage=state.usage,
                    duration_s=time.perf_counter() - started,
                    messages=state.messages,
                )
                log.info("agent.done", steps=state.step, seconds=round(result.duration_s, 3))
                return result

    async def _request(self, state: RunState, on_text: TextSink | None) -> tuple[ModelResponse, float]:
        started = time.perf_counter()
        first_look = state.step == 1 and bool(state.tools) and self.settings.first_step == "tool"
        calls = None
        if self.settings.ground_arguments and state.tools:
            said = [m.content for m in state.messages if m.role in ("user", "tool")]
            calls = ground(state.tools, said)
        response = await self.model.respond(
            state.messages,
            state.tools,
            on_text=on_text,
            tool_choice="required" if first_look else "auto",
            calls=calls,
        )
        seconds = time.perf_counter() - started
        log.info(
            "model.step",
            step=state.step,
            model=response.model or self.model.name,
            seconds=round(seconds, 3),
            tokens_in=response.usage.input_tokens,
            tokens_cached=response.usage.cached_tokens,
            tokens_out=response.usage.output_tokens,
            tool_calls=[c.name for c in response.tool_calls],
            parse_error=response.parse_error,
        )
        log.debug("model.output", step=state.step, raw=response.raw or response.text)
        return response, seconds

    async def _run_tools(self, calls: Sequence[ToolCall], tools: Sequence[ToolSpec]) -> list[ToolCallRecord]:
        records: list[ToolCallRecord | None] = [None] * len(calls)

        async def run_one(i: int, call: ToolCall) -> None:
            records[i] = await self._run_tool(call, tools)

        async with anyio.create_task_group() as tg:
            for i, call in enumerate(calls):
                tg.start_soon(run_one, i, call)
        return [r for r in records if r is not None]

    async def _run_tool(self, call: ToolCall, tools: Sequence[ToolSpec]) -> ToolCallRecord:
        started = time.perf_counter()
        try:
            problem = check_call(call, tools)
            if problem is not None:
                error = ToolNotFoundError if problem.kind == "unknown_tool" else ToolArgumentsError
                raise error(problem.message)
            result = await self.toolset.call_tool(call.name, call.arguments)
            text, is_error = result.text or "(no output)", result.is_error
        except ToolError as exc:
            text, is_error = f"{ERROR_PREFIX}: {exc}", True
        else:
            if is_error and not text.lower().startswith(ERROR_PREFIX.lower()):
                text = f"{ERROR_PREFIX}: {text}"
        text, truncated = truncate(text, self.settings.tool_result_tokens)
        seconds = time.perf_counter() - started
        log.info(
            "tool.call", tool=call.name, seconds=round(seconds, 3), is_error=is_error, truncated=truncated
        )
        log.debug("tool.io", tool=call.name, arguments=call.arguments, result=text)
        return ToolCallRecord(
            id=call.id,
            name=call.name,
            arguments=call.arguments,
            result=text,
            is_error=is_error,
            truncated=truncated,
            duration_s=seconds,
        )


async def _call_hook(hook: StepHook | None, step: Step) -> None:
    if hook is None:
        return
    outcome = hook(step)
    if inspect.isawaitable(outcome):
        await outcome


@dataclass
class Session:
    """A multi-turn conversation: each `ask` sees the earlier questions, tool results and answers."""

    agent: Agent
    max_turns: int = 6  # earlier turns kept in the history
    turns: list[list[Message]] = field(default_factory=list)

    @property
    def history(self) -> list[Message]:
        """The messages of the turns kept, oldest first."""
        return [m for turn in self.turns[-self.max_turns :] for m in turn]

    async def ask(
        self, question: str, *, on_text: TextSink | None = None, on_step: StepHook | None = None
    ) -> RunResult:
        """Answer `question` in the context of this session."""
        history = self.history
        result = await self.agent.run(question, history=history, on_text=on_text, on_step=on_step)
        self.turns.append(result.messages[1 + len(history) :])
        del self.turns[: -self.max_turns]
        return result
