"""One question runner for every benchmark: stacks answer, the runner takes turns and tallies.

A `Stack` is a configuration under test: it answers one question in a new conversation and returns
an `Attempt` (the answer, or the error that ended the run, and the steps taken). `AgentStack` is
homelab-agent in-process over a toolbox (the Kanboard and Docker benchmarks); the peers benchmark
adds its own. `take_turns` asks every question of every stack, who goes first alternating, so a
busy CPU slows them all alike; `outcome` scores an attempt against the question's truth and sums
its costs; `Results` holds one stack's outcomes.

Where a question's truth comes from (a board, an engine), which toolbox a stack asks through and
how results are printed are each benchmark's own; this module only runs and tallies.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import structlog
from pydantic import BaseModel, Field

from agent.config import AgentSettings
from agent.exceptions import RunError
from agent.loop import Agent
from agent.messages import Usage
from agent.models.base import Model
from agent.policy import Policy
from agent.toolsets.base import Toolset
from agent.trace import Route, RunResult, Step

if TYPE_CHECKING:
    from benchmarks.kanboard_qa.scoring import Truth

__all__ = [
    "AgentStack",
    "Asked",
    "Attempt",
    "Outcome",
    "Reset",
    "Results",
    "Stack",
    "ask_agent",
    "outcome",
    "reset_caches",
    "take_turns",
]

log = structlog.get_logger(__name__)

Reset = Callable[[], Awaitable[None] | None]
"""Clears a model's caches before a question (cold runs)."""


@dataclass
class Attempt:
    """One question asked of one stack: the answer (or the error that ended the run) and its steps."""

    answer: str
    steps: list[Step] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None  # "ExceptionName: message"; the answer then counts as wrong
    first_token_s: float | None = None  # until the answer's first text was ready to stream


class Stack(Protocol):
    """A configuration under test."""

    @property
    def label(self) -> str:
        """Its name in reports."""
        ...

    async def run(self, question: str) -> Attempt:
        """Ask `question` in a new conversation."""
        ...


async def reset_caches(reset: Reset | None) -> None:
    """Run `reset` (sync or async), if there is one."""
    if reset is not None:
        done = reset()
        if inspect.isawaitable(done):
            await done


async def ask_agent(agent: Agent, question: str) -> Attempt:
    """Ask `agent`; a run error is the attempt's error, with the steps taken until then."""
    steps: list[Step] = []
    started = time.perf_counter()
    try:
        result = await agent.run(question, on_step=steps.append)
    except RunError as exc:
        return Attempt("", steps, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return Attempt(result.answer, list(result.steps), result.duration_s, first_token_s=result.first_token_s)


@dataclass(frozen=True)
class AgentStack:
    """homelab-agent in-process: a new `Agent` over `model` and `toolbox` for each question."""

    label: str
    model: Model | Policy
    toolbox: Toolset
    settings: AgentSettings = field(default_factory=AgentSettings)
    reset: Reset | None = None  # cold runs: clear the model's caches before each question

    def over(self, toolbox: Toolset) -> AgentStack:
        """The same stack asking through `toolbox` (a fresh board for a write request)."""
        return replace(self, toolbox=toolbox)

    async def run(self, question: str) -> Attempt:
        """Ask `question` (after clearing the caches, for a cold stack)."""
        await reset_caches(self.reset)
        return await ask_agent(Agent(self.model, self.toolbox, self.settings), question)


class Outcome(BaseModel):
    """One question's answer, score and costs."""

    id: str
    category: str
    question: str
    answer: str = ""
    error: str | None = None  # a run error (step limit, model crash): the answer counts as wrong
    correct: bool = False
    valid_calls: bool = True
    missing: list[str] = Field(default_factory=list)
    forbidden_found: list[str] = Field(default_factory=list)
    invalid: list[str] = Field(default_factory=list)
    write_problems: list[str] = Field(default_factory=list)
    latency_s: float = 0.0
    first_token_s: float | None = None  # until the answer's first text was ready to stream
    prefill_s: float = 0.0
    decode_s: float = 0.0
    tool_s: float = 0.0
    other_s: float = 0.0  # latency not in prefill, decode or tools: templating, parsing, routing
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    steps: int = 0
    models: list[str] = Field(default_factory=list)  # the model that answered each step
    tools: list[str] = Field(default_factory=list)  # tools called, in order
    tool_errors: list[str] = Field(default_factory=list)  # failed tool calls: "tool: first words"
    routes: list[Route] = Field(default_factory=list)
    # how the answer was written: "direct" (a tool's list, no model turn), "lead" (the model's lead,
    # then the list as given) or "model" (every token by the model; `agent.quoting`)
    answer_kind: str = "model"


class Results(BaseModel):
    """One configuration's run over the questions."""

    label: str
    board: str = "homelab"  # the board asked (a kanboard_qa suite; "docker" for docker_qa)
    config: dict[str, Any] = Field(default_factory=dict)
    started_at: str = ""
    machine: dict[str, Any] = Field(default_factory=dict)
    outcomes: list[Outcome] = Field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of questions answered correctly."""
        return sum(o.correct for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def median_latency(self) -> float:
        """Median seconds per question."""
        return statistics.median(o.latency_s for o in self.outcomes) if self.outcomes else 0.0

    def by_category(self) -> dict[str, tuple[int, int]]:
        """Category -> (correct, asked)."""
        tally: dict[str, tuple[int, int]] = {}
        for o in self.outcomes:
            right, asked = tally.get(o.category, (0, 0))
            tally[o.category] = (right + o.correct, asked + 1)
        return tally


class Asked(Protocol):
    """What the runner reads of a benchmark's question."""

    @property
    def id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def text(self) -> str: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)
S = TypeVar("S", bound=Stack)
Q = TypeVar("Q", bound=Asked)


@overload
def outcome(question: Asked, truth: Truth, attempt: Attempt) -> Outcome: ...
@overload
def outcome(question: Asked, truth: Truth, attempt: Attempt, kind: type[OutcomeT]) -> OutcomeT: ...


def outcome(question: Asked, truth: Truth, attempt: Attempt, kind: type[Outcome] = Outcome) -> Outcome:
    """Score `attempt` against `truth` and sum its costs (all steps, also when the run failed)."""
    # imported here: importing the kanboard_qa package imports this module
    from benchmarks.kanboard_qa.scoring import score_answer

    steps = attempt.steps
    usage = sum((s.usage for s in steps), Usage())
    tool_s = sum(s.tool_s for s in steps)
    result = RunResult(answer=attempt.answer, steps=steps, usage=usage, duration_s=attempt.duration_s)
    score = score_answer(attempt.answer, truth, result)
    last = steps[-1] if steps else None
    return kind(
        id=question.id,
        category=question.category,
        question=question.text,
        answer=attempt.answer,
        error=attempt.error,
        correct=score.correct and attempt.error is None,
        valid_calls=score.valid_calls,
        missing=score.missing,
        forbidden_found=score.forbidden_found,
        invalid=score.invalid,
        latency_s=attempt.duration_s,
        first_token_s=attempt.first_token_s,
        prefill_s=usage.prefill_s,
        decode_s=usage.decode_s,
        tool_s=tool_s,
        other_s=max(0.0, attempt.duration_s - usage.prefill_s - usage.decode_s - tool_s),
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        steps=len(steps),
        models=[s.model for s in steps],
        tools=[c.name for s in steps for c in s.tool_calls],
        tool_errors=[
            f"{c.name}: {' '.join(c.result.split())[:100]}" for s in steps for c in s.tool_calls if c.is_error
        ],
        routes=[s.route for s in steps if s.route],
        answer_kind="direct" if last and last.direct else "lead" if last and last.quoted else "model",
    )


async def take_turns(
    stacks: Sequence[S],
    questions: Sequence[Q],
    ask: Callable[[S, Q], Awaitable[OutcomeT]],
    *,
    on_outcome: Callable[[str, OutcomeT], None] | None = None,
    event: str = "benchmark.question",
    **context: object,
) -> list[list[OutcomeT]]:
    """`ask(stack, question)` for every question and stack, who goes first alternating; the
    outcomes of each stack, in question order. `context` goes into each logged `event`."""
    outcomes: list[list[OutcomeT]] = [[] for _ in stacks]
    for n, question in enumerate(questions):
        order = list(range(len(stacks)))
        if n % 2:
            order.reverse()
        for i in order:
            stack = stacks[i]
            done = await ask(stack, question)
            log.info(
                event,
                **context,
                label=stack.label,
                id=done.id,
                correct=done.correct,
                seconds=round(done.latency_s, 2),
            )
            outcomes[i].append(done)
            if on_outcome is not None:
                on_outcome(stack.label, done)
    return outcomes
