"""Which model answers each step, with which tools, and whether its answer stands: the loop's hook.

The loop owns the run and asks a `Policy` at three points, always with a typed `RunContext` (the
question as asked, the step, the conversation, the tools, the run's tool results with their
`is_error` flags; corrections the loop wrote are marked on their messages):

    begin(question, tools) -> RunPolicy        once, when the run starts
    plan(ctx)             -> StepPlan          before each model turn (see below)
    review(ctx, plan, response) -> Rejection?  after it: None, or why the loop should ask again

A policy chooses who answers a step: the model, the turns hidden from it (a fresh start), whether
its streamed text is held until `review`, and whether it must answer now. Everything else about
the step follows from where the run stands and is decided here, once, by `plan_step`: the tools
shown and those it may call (the first-step rule, an answer-only turn after a repeated call,
arguments grounded in what the conversation named), the question restated after the results, and
what the answer may reuse of the lookup (`agent.quoting`). The loop and the backends only execute
a `StepPlan`; none of them amends it.

On a rejection the loop plans the same step again and asks once more; that second answer stands.
`OneModel` is the default policy: one model, every tool, nothing rejected. `agent.router.Router`
is the other. A policy never reads message text to find the question, the step or a failed lookup,
and holds nothing between runs. This module calls no model and no tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from agent.grounding import ground
from agent.messages import Message, ModelResponse, ToolSpec
from agent.models.base import Model, ToolChoice
from agent.quoting import LEAD_END, QuoteMode, direct_answer, open_part, quotable, unmentioned
from agent.trace import Route, ToolCallRecord

__all__ = [
    "OneModel",
    "Policy",
    "Rejection",
    "Reuse",
    "RunContext",
    "RunPolicy",
    "StepPlan",
    "plan_step",
    "reuse",
]

# The question said again after the results, for that turn only (not kept in the conversation):
# measured on the 1.5B over eight list questions, 8 right with it and 1 without (the rest answered
# with a count). A turn shown no tools is not invited to call one (the 0.5B then names a tool).
RESTATED = "Answer this from the results, or call a tool for what is still missing: {question}"
RESTATED_ANSWER = "Answer this from the results above: {question}"  # a turn shown no tools
MISSED = (  # the lookup never mentions a name the question says (`agent.quoting.unmentioned`)
    "Nothing above mentions {names}: look it up with a tool before you answer. The question: {question}"
)
OPEN_PART = (  # a part of the question no lookup has covered yet (`agent.quoting.open_part`)
    'The results above do not answer this part yet: "{part}". Call the tool for it. The question: {question}'
)


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
    must_answer: bool = False  # the last turn repeated calls already answered: this one answers
    ground: bool = True  # a step may only pass the names the conversation said (`agent.grounding`)
    restate: bool = True  # after tool results, the question is said again for the step

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
    """How one step is asked: made by `plan_step`, executed as it is by the loop and the model."""

    model: Model
    tools: Sequence[ToolSpec]  # shown in the prompt
    tool_choice: ToolChoice = "auto"  # may it call ("auto"), must it ("required"), or answer ("none")
    calls: Sequence[ToolSpec] | None = None  # the calls it may make: `tools` narrowed (None: any)
    reminder: str | None = None  # a turn after the results for this step only: the question again
    hidden: int = 0  # this run's first `hidden` turns are not shown to the model (a fresh start)
    hold: bool = False  # hold a streamed answer back until `review` accepts it
    route: Route | None = None  # what the trace records about this choice
    reuse: Reuse = field(default_factory=Reuse)  # what the answer may reuse of the lookup (`agent.quoting`)

    @property
    def stop(self) -> tuple[str, ...]:
        """Where the answer's text ends: at a lead's end when it may quote a list after it."""
        return (LEAD_END,) if self.reuse.quote else ()


def plan_step(
    ctx: RunContext,
    model: Model,
    *,
    hidden: int = 0,
    hold: bool = False,
    answer: bool = False,
    route: Route | None = None,
) -> StepPlan:
    """The plan of step `ctx.step` for `model`, which does not see the run's first `hidden` turns.

    The model's first turn on the question follows the first-step rule (`ctx.first_choice`); after
    that it may call any tool or answer. With `answer` (the policy's choice) it must answer, the
    tools still shown; after a repeated call (`ctx.must_answer`) it must answer and is shown no
    tools (with them in its prompt a small model tends to echo their descriptions: measured on the
    0.5B). A question in parts whose next part no lookup has covered yet must call a tool for it
    (`quoting.open_part`). The calls it may make are grounded in the names the conversation said;
    after tool results the question is restated (or, when the lookup missed a name or a part of
    the question, the model is told to look it up). What its answer may reuse of the lookup is
    `reuse`.
    """
    seen = ctx.turns[hidden:]
    first = not any(m.role == "assistant" for m in seen)
    choice: ToolChoice = ctx.first_choice if first else "auto"
    tools: Sequence[ToolSpec] = ctx.tools
    if ctx.must_answer:
        tools, choice = (), "none"
    elif answer:
        choice = "none"
    lookups = sum(1 for m in seen if m.role == "assistant" and m.tool_calls)
    part = open_part(ctx.question, ctx.results, ctx.tools, lookups) if tools and choice == "auto" else None
    if part is not None:
        choice = "required"  # the question's next part has had no lookup: it gets one first
    kept = reuse(ctx, choice) if seen else Reuse()
    calls = None
    if ctx.ground and tools and choice != "none":
        calls = ground(tools, [m.content for m in ctx.messages if m.role in ("user", "tool")])
    reminder = None
    last = seen[-1] if seen else None
    if ctx.restate and last is not None and last.role == "tool":
        wording = RESTATED if tools else RESTATED_ANSWER
        if kept.unmentioned and tools:
            wording = MISSED.replace("{names}", " or ".join(f'"{n}"' for n in kept.unmentioned))
        if part is not None:
            wording = OPEN_PART.replace("{part}", part)
        reminder = wording.format(question=ctx.question)
    return StepPlan(model, tools, choice, calls, reminder, hidden, hold, route, kept)


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
    return Reuse(quotable(ctx.last_results, ctx.question, ctx.tools), direct)


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
        """The model, every turn shown (`plan_step` decides the rest)."""
        return plan_step(ctx, self.model)

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        """Every response stands."""
        return None
