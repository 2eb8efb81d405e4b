"""The agent loop: ask the model, run its tool calls, repeat until it answers.

One run is a small state machine over `RunState`:

    plan the step (policy) ──> request model ──> rejected (policy)? ──yes──> plan and request again
                                                   │no
            ┌── tool calls ──> run them (concurrently) ──> next step
            │                  └─ one waits for a decision (`CallDeferred`) ──> paused
            ├── the same calls as earlier in this run ──> not run; next step asks for an answer,
            │                                              showing the model no tools
            ├── unreadable or empty ──> tell the model (a correction), next step
            └── text ──> done (a lead to the lists the plan may quote: they follow it, as the
                         tools gave them; `agent.quoting`)
    a plan with the answer in it (a lookup's list that answers as asked) ──> done, no model asked

Tool problems the model caused (unknown tool, bad arguments, a tool error, a crashed server)
become observations and the run goes on; everything else propagates. A hard step limit ends in
`MaxStepsError`. A run whose toolset defers a call (a write waiting for the user's approval)
ends at once with `RunResult.paused`, plain data the caller may keep anywhere;
`run(resume=paused)` runs the waiting calls (now decided) and goes on. How each step is asked
(which model, which tools shown and callable, must it call or answer, the question restated) is
the policy's `StepPlan` (`agent.policy`; one model by default, or `agent.router`): the loop
executes it as it is, and checks every call before it runs (`agent.validation`). This module does
not build models or connect servers: see `agent.app`.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import structlog

from agent.config import AgentSettings
from agent.exceptions import CallDeferred, MaxStepsError, ToolArgumentsError, ToolError, ToolNotFoundError
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import Model, TextSink, ToolChoice
from agent.policy import OneModel, Policy, RunContext, RunPolicy, StepPlan
from agent.quoting import LEAD_END, QuoteMode, quoted_answer
from agent.system_prompt import fill_prompt, read_prompt
from agent.tokens import truncate
from agent.toolsets.base import Toolset
from agent.trace import PausedRun, RunResult, Step, ToolCallRecord
from agent.validation import check_call

__all__ = ["Agent", "Session", "StepHook"]

log = structlog.get_logger(__name__)

CORRECTION = "I could not use that: {problem}. Call one tool correctly, or answer in plain text."
ERROR_PREFIX = "Error"  # starts every failed tool result the model reads

StepHook = Callable[[Step], Awaitable[None] | None]


def _call_key(call: ToolCall) -> str:
    return json.dumps([call.name, call.arguments], sort_keys=True, default=str)


@dataclass
class RunState:
    """Everything one run knows: the conversation so far, the step count, usage, and the trace."""

    question: str
    messages: list[Message]
    tools: list[ToolSpec]
    first_choice: ToolChoice
    run_start: int = 0  # index of the run's first message after the question
    step: int = 0
    usage: Usage = field(default_factory=Usage)
    steps: list[Step] = field(default_factory=list)
    results: list[ToolCallRecord] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)  # the calls run so far (`_call_key`)
    # the last turn repeated answered calls: this one must answer (`agent.policy.plan_step`)
    answer_only: bool = False
    first_text_at: float | None = None  # perf_counter() when the first answer text was ready to stream
    quoting: QuoteMode = "direct"
    ground: bool = True  # settings the plan follows (`AgentSettings.ground_arguments`, ...)
    restate: bool = True
    step_calls: list[ToolCall] = field(default_factory=list)  # a resumed step's calls, if one still waits
    step_text: str = ""  # ... and the text its model wrote beside them

    def __post_init__(self) -> None:
        self.run_start = len(self.messages)

    def context(self) -> RunContext:
        """The typed view a policy decides from."""
        last = self.steps[-1].tool_calls if self.steps else []
        return RunContext(
            question=self.question,
            step=self.step,
            messages=tuple(self.messages),
            run_start=self.run_start,
            tools=tuple(self.tools),
            results=tuple(self.results),
            last_results=tuple(last),
            first_choice=self.first_choice,
            quoting=self.quoting,
            must_answer=self.answer_only,
            ground=self.ground,
            restate=self.restate,
        )


@dataclass
class Agent:
    """Answers questions with `model` (one model, or a `Policy` such as the router), calling tools
    from `toolset`."""

    model: Model | Policy
    toolset: Toolset
    settings: AgentSettings = field(default_factory=AgentSettings)
    system_prompt: str | None = None  # a template ("{today}", "{timezone}"); None: the packaged one

    @property
    def policy(self) -> Policy:
        """Who answers each step: the policy given, or the default one around the model given."""
        return self.model if isinstance(self.model, Policy) else OneModel(self.model)

    async def run(
        self,
        question: str,
        *,
        history: Sequence[Message] = (),
        on_text: TextSink | None = None,
        on_step: StepHook | None = None,
        resume: PausedRun | None = None,
    ) -> RunResult:
        """Answer `question` after `history`; stream the final answer through `on_text`.

        With `resume`, go on with a paused run instead (`question` and `history` are then its own):
        its waiting calls run first, through the toolset as it decides now. A run whose toolset
        defers a call returns at once with `paused` set and no answer.

        Raises:
            MaxStepsError: the model was still calling tools after `settings.max_steps` turns.
            RunError: the model or the configuration failed.
        """
        started = time.perf_counter()
        if resume is not None:
            tools = await self.toolset.list_tools()
            state, started = await self._resumed(resume, tools), started - resume.elapsed_s
            if state.step_calls:  # a call still waits for a decision
                return self._paused(state, state.step_calls, started, state.step_text)
        else:
            system = fill_prompt(self.system_prompt or read_prompt(None), self.settings.timezone)
            tools = await self.toolset.list_tools()
            guide = await self.toolset.instructions() if tools else ""
            if guide:
                system = f"{system}\n\n{guide}"
            first: ToolChoice = "required" if tools and self.settings.first_step == "tool" else "auto"
            messages = [Message.system(system), *history, Message.user(question)]
            state = RunState(question, messages, tools, first)
        state.quoting = self.settings.quote_lists
        state.ground, state.restate = self.settings.ground_arguments, self.settings.restate_question
        run = self.policy.begin(state.question, tools)
        while True:
            if state.step >= self.settings.max_steps:
                raise MaxStepsError(self.settings.max_steps)
            state.step += 1
            step_started = time.perf_counter()
            plan, response, quoted, model_s = await self._request(run, state, on_text)
            step = Step(
                index=state.step,
                model=response.model or plan.model.name,
                model_s=model_s,
                usage=response.usage,
                first_token_s=(
                    None
                    if state.first_text_at is None or state.first_text_at < step_started
                    else state.first_text_at - step_started
                ),
                text=response.text,
                parse_error=response.parse_error,
                route=plan.route,
                quoted=quoted,
                direct=plan.reuse.direct is not None,
            )
            state.steps.append(step)
            state.usage += response.usage
            state.answer_only = False
            if response.tool_calls and all(_call_key(c) in state.answered for c in response.tool_calls):
                step.repeated = list(response.tool_calls)  # not run again; the next turn must answer
                state.answer_only = True
                log.info("agent.repeated_call", step=state.step, tools=[c.name for c in response.tool_calls])
            elif response.tool_calls:
                step.tool_calls = await self._run_tools(response.tool_calls, state.tools)
                if len(step.tool_calls) < len(response.tool_calls):  # one waits for a decision
                    await _call_hook(on_step, step)
                    return self._paused(state, response.tool_calls, started, response.text)
                _record_calls(state, response.text, response.tool_calls, step.tool_calls)
            elif response.parse_error or not response.text.strip():
                problem = response.parse_error or "your reply was empty"
                state.messages.append(Message.assistant(response.raw or response.text))
                state.messages.append(Message.correction(CORRECTION.format(problem=problem)))
            await _call_hook(on_step, step)
            if not response.tool_calls and response.text.strip() and not response.parse_error:
                answer = response.text.strip()
                state.messages.append(Message.assistant(answer))
                result = RunResult(
                    answer=answer,
                    steps=state.steps,
                    usage=state.usage,
                    duration_s=time.perf_counter() - started,
                    first_token_s=None if state.first_text_at is None else state.first_text_at - started,
                    messages=state.messages,
                )
                log.info("agent.done", steps=state.step, seconds=round(result.duration_s, 3))
                return result

    def _paused(self, state: RunState, calls: Sequence[ToolCall], started: float, text: str) -> RunResult:
        """The result of a run whose last step's `calls` wait, some of them, for a decision."""
        paused = PausedRun(
            question=state.question,
            messages=state.messages,
            run_start=state.run_start,
            first_choice=state.first_choice,
            step=state.step,
            usage=state.usage,
            steps=state.steps,
            answered=sorted(state.answered),
            calls=list(calls),
            done=state.steps[-1].tool_calls,
            step_text=text,
            elapsed_s=time.perf_counter() - started,
        )
        log.info("agent.paused", step=state.step, pending=[c.name for c in paused.pending])
        return RunResult(
            answer="",
            steps=state.steps,
            usage=state.usage,
            duration_s=paused.elapsed_s,
            messages=state.messages,
            paused=paused,
        )

    async def _resumed(self, paused: PausedRun, tools: list[ToolSpec]) -> RunState:
        """`paused` after its waiting calls ran; `step_calls` holds the step's calls if one waits still."""
        state = RunState(paused.question, list(paused.messages), tools, paused.first_choice)
        state.run_start, state.step, state.usage = paused.run_start, paused.step, paused.usage
        state.steps = list(paused.steps)
        state.results = [r for s in state.steps[:-1] for r in s.tool_calls]
        state.answered = set(paused.answered)
        ran = {r.id: r for r in paused.done}
        ran |= {r.id: r for r in await self._run_tools(paused.pending, tools)}
        step = state.steps[-1]
        step.tool_calls = [ran[c.id] for c in paused.calls if c.id in ran]
        if len(ran) < len(paused.calls):
            state.step_calls, state.step_text = list(paused.calls), paused.step_text
            return state
        _record_calls(state, paused.step_text, paused.calls, step.tool_calls)
        return state

    async def _request(
        self, run: RunPolicy, state: RunState, on_text: TextSink | None
    ) -> tuple[StepPlan, ModelResponse, list[str], float]:
        """Plan and ask one step; once more, replanned, if the policy rejects the response. An
        answer that is a lead to the lists the plan may quote gets them, as given (the tools named)."""
        started = time.perf_counter()
        ctx = state.context()
        rejected = Usage()
        quoted: list[str] = []

        def forward(piece: str) -> None:
            """Pass answer text on, noting when the first arrived (time to first token)."""
            if state.first_text_at is None:
                state.first_text_at = time.perf_counter()
            if on_text is not None:
                on_text(piece)

        for attempt in (1, 2):
            quoted = []
            plan = run.plan(ctx)
            held: list[str] = []
            sink = held.append if plan.hold else forward
            if plan.reuse.direct is not None:  # the lookup's list answers as asked: no model turn
                forward(plan.reuse.direct)
                quoted = [r.name for r in ctx.last_results]
                response = ModelResponse(text=plan.reuse.direct, model=plan.model.name)
                break
            response = await self._respond(plan, ctx, sink)
            if plan.reuse.quote and not response.tool_calls and _is_lead(response):
                rest = quoted_answer(response.text, plan.reuse.quote)[len(response.text.rstrip()) :]
                sink(rest)  # the lists as the tools gave them, after the model's lead
                response = response.model_copy(update={"text": response.text.rstrip() + rest})
                quoted = [r.name for r in plan.reuse.quote]
            rejection = run.review(ctx, plan, response) if attempt == 1 else None
            if rejection is None:
                if held:
                    forward("".join(held))
                break
            rejected += response.usage
            log.info("agent.rejected", step=state.step, model=plan.model.name, kind=rejection.kind)
        seconds = time.perf_counter() - started
        response = response.model_copy(update={"usage": rejected + response.usage})
        log.info(
            "model.step",
            step=state.step,
            model=response.model or plan.model.name,
            seconds=round(seconds, 3),
            tokens_in=response.usage.input_tokens,
            tokens_cached=response.usage.cached_tokens,
            tokens_out=response.usage.output_tokens,
            tool_calls=[c.name for c in response.tool_calls],
            parse_error=response.parse_error,
        )
        log.debug("model.output", step=state.step, raw=response.raw or response.text)
        if quoted:
            log.info("agent.quoted", step=state.step, tools=quoted)
        return plan, response, quoted, seconds

    async def _respond(self, plan: StepPlan, ctx: RunContext, on_text: TextSink | None) -> ModelResponse:
        """The planned model's turn, as planned: the conversation less any hidden turns, then the
        plan's reminder (for this turn only, not kept in the conversation)."""
        messages = ctx.messages
        if plan.hidden:
            messages = [*messages[: ctx.run_start], *messages[ctx.run_start + plan.hidden :]]
        if plan.reminder is not None:
            messages = [*messages, Message.reminder(plan.reminder)]
        return await plan.model.respond(
            messages,
            plan.tools,
            on_text=on_text,
            tool_choice=plan.tool_choice,
            calls=plan.calls,
            stop=plan.stop,
        )

    async def _run_tools(self, calls: Sequence[ToolCall], tools: Sequence[ToolSpec]) -> list[ToolCallRecord]:
        """The records of `calls`, in order, less those the toolset deferred."""
        records: list[ToolCallRecord | None] = [None] * len(calls)

        async def run_one(i: int, call: ToolCall) -> None:
            records[i] = await self._run_tool(call, tools)

        async with anyio.create_task_group() as tg:
            for i, call in enumerate(calls):
                tg.start_soon(run_one, i, call)
        return [r for r in records if r is not None]

    async def _run_tool(self, call: ToolCall, tools: Sequence[ToolSpec]) -> ToolCallRecord | None:
        started = time.perf_counter()
        try:
            problem = check_call(call, tools)
            if problem is not None:
                error = ToolNotFoundError if problem.kind == "unknown_tool" else ToolArgumentsError
                raise error(problem.message)
            result = await self.toolset.call_tool(call.name, call.arguments)
            text, is_error = result.text or "(no output)", result.is_error
        except CallDeferred:
            log.info("tool.deferred", tool=call.name)
            return None
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


def _is_lead(response: ModelResponse) -> bool:
    """Whether an answer is a lead to a list: it stopped at the lead's end, or ended with a colon."""
    return response.stop == LEAD_END or (response.stop is None and response.text.rstrip().endswith(":"))


def _record_calls(
    state: RunState, text: str, calls: Sequence[ToolCall], records: Sequence[ToolCallRecord]
) -> None:
    """Add a step's calls and their results to the conversation."""
    state.messages.append(Message.assistant(text, list(calls)))
    state.messages.extend(
        Message.tool(call, record.result) for call, record in zip(calls, records, strict=True)
    )
    state.results += records
    state.answered |= {_call_key(c) for c in calls}


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
        """Answer `question` in the context of this session (a run that pauses keeps no turn yet)."""
        history = self.history
        result = await self.agent.run(question, history=history, on_text=on_text, on_step=on_step)
        self._keep(result, 1 + len(history))
        return result

    async def resume(
        self, paused: PausedRun, *, on_text: TextSink | None = None, on_step: StepHook | None = None
    ) -> RunResult:
        """Go on with a run of this session that paused; its turn is kept once it answers."""
        result = await self.agent.run(paused.question, on_text=on_text, on_step=on_step, resume=paused)
        self._keep(result, paused.run_start - 1)
        return result

    def _keep(self, result: RunResult, question_at: int) -> None:
        if result.paused is None:
            self.turns.append(result.messages[question_at:])
            del self.turns[: -self.max_turns]
