"""Which model answers each step, with which tools, and whether its answer stands: the loop's hook.

The loop owns the run and asks a `Policy` at three points, always with a typed `RunContext` (the
question as asked, the step, the conversation, the tools, the run's tool results with their
`is_error` flags; corrections the loop wrote are marked on their messages):

    begin(question, tools) -> RunPolicy        once, when the run starts
    plan(ctx)             -> StepPlan          before each model turn: model, tools, tool choice,
                                               turns hidden from the model, hold the streamed text?,
                                               the results its answer may quote, or the answer
                                               itself when a tool's list answers as asked
    review(ctx, plan, response) -> Rejection?  after it: None, or why the loop should ask again

On a rejection the loop plans the same step again and asks once more; that second answer stands.
`OneModel` is the default policy: one model, every tool, the first-step rule, nothing rejected.
`agent.router.Router` is the other. A policy never reads message text to find the question, the
step or a failed lookup, and holds nothing between runs. This module calls no model and no tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from agent.messages import Message, ModelResponse, ToolSpec
from agent.models.base import Model, ToolChoice
from agent.quoting import QuoteMode, direct_answer, quotable, unmentioned
from agent.trace import Route, ToolCallRecord

__all__ = ["OneModel", "Policy", "Rejection", "RunContext", "RunPolicy", "Reuse", "StepPlan", "reuse"]


@dataclass(frozen=True)
class RunContext:
    """Where a run stands when a step is planned or reviewed."""

    question: str  # as the user asked it
    step: int  # the step being planned (1 = the run's first model turn)
    messages: Sequence[Message]  # system prompt, earlier turns, the question, this run's turns
    run_start: int  # index in `messages` of this run's first turn, right after the question
    tools: Sequence[ToolSpec]  # every tool listed for this run
    results: Sequence[ToolCallRecord]  # this run's tool results so far, oldest first
    last_results: Sequence[ToolCallRecord]  # those of the step before this one
    first_choice: ToolChoice  # what the first-step rule gives a model's first turn on the question
    quoting: QuoteMode = "direct"  # how answers may reuse a lookup's list (`agent.quoting`)

    @property
    def turns(self) -> Sequence[Message]:
        """This run's messages after the question: calls, results, corrections."""
        return self.messages[self.run_start :]


@dataclass(frozen=True)
class Reuse:
    """How a step's answer may reuse the step before's lookup (`agent.quoting`)."""

    quote: tuple[ToolCallRecord, ...] = ()  # lists the answer may quote after a lead
    direct: str | None = None  # the answer itself: one list that answers the question as asked
    unmentioned: tuple[str, ...] = ()  # names of the question the lookup missed: nothing to quote


@dataclass(frozen=True)
class StepPlan:
    """How one step is asked."""

    model: Model
    tools: Sequence[ToolSpec]  # shown in the prompt; the loop grounds the step's calls in them
    tool_choice: ToolChoice = "auto"
    hidden: int = 0  # this run's first `hidden` turns are not shown to the model (a fresh start)
    hold: bool = False  # hold a streamed answer back until `review` accepts it
    route: Route | None = None  # what the trace records about this choice
    reuse: Reuse = field(default_factory=Reuse)  # what the answer may reuse of the lookup (`agent.quoting`)


def reuse(ctx: RunContext, choice: ToolChoice) -> Reuse:
    """What of the last lookup a step's answer may reuse; nothing when this step must call a tool
    or `ctx.quoting` is "off". A lookup that never mentions a name the question says offers no
    list: the model is told what it missed (`Reuse.unmentioned`) and judges."""
    if choice == "required" or ctx.quoting == "off":
        return Reuse()
    missing = tuple(unmentioned(ctx.question, ctx.last_results, ctx.tools))
    if missing:
        return Reuse(unmentioned=missing)
    direct = None
    if ctx.quoting == "direct" and len(ctx.last_results) == 1:
        record = ctx.last_results[0]
        tool = next((t for t in ctx.tools if t.name == record.name), None)
        direct = direct_answer(ctx.question, record, tool)
    return Reuse(quotable(ctx.last_results), direct)


@dataclass(frozen=True)
class Rejection:
    """Why a response was not used: a short `kind` (a metrics label) and the details."""

    kind: str
    why: str


class RunPolicy(Protocol):
    """The decisions of one run (it may keep state between its own steps)."""

    def plan(self, ctx: RunContext) -> StepPlan:
        """How to ask for step `ctx.step`."""
        ...

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        """None when `response` stands, else why the step should be asked again."""
        ...


@runtime_checkable
class Policy(Protocol):
    """What answers an agent's questions, if not a single model."""

    @property
    def name(self) -> str:
        """A short name for traces and `/healthz`."""
        ...

    def begin(self, question: str, tools: Sequence[ToolSpec]) -> RunPolicy:
        """The decisions for a new run of `question`."""
        ...

    async def aclose(self) -> None:
        """Release what the policy holds (its models are closed by whoever built them)."""
        ...


@dataclass(frozen=True)
class OneModel:
    """The default policy: `model` answers every step with every tool; the first-step rule holds."""

    model: Model

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.name

    def begin(self, question: str, tools: Sequence[ToolSpec]) -> OneModel:
        """No decision to make: the same plan every run."""
        return self

    def plan(self, ctx: RunContext) -> StepPlan:
        """Every tool; the first step's tool choice from the first-step rule, then "auto"; an
        answer may quote the lists the last lookup found."""
        choice = ctx.first_choice if ctx.step == 1 else "auto"
        return StepPlan(self.model, ctx.tools, choice, reuse=reuse(ctx, choice))

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        """Every response stands."""
        return None

    async def aclose(self) -> None:
        """Nothing to release: the model is closed by whoever built it."""
