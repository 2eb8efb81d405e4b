"""The router: a `Policy` that sends each question to a small or a large model, and hands it to the
large one when the small one slips.

When a run starts (`begin`), the question's complexity cues decide, in well under a millisecond:

    question ──> complexity cues (counting, comparing, several questions, writes, length)
             └─> simplicity (1 - complexity) >= router.confidence ? small : large

Every step offers every tool (the prompt stays the same, so its KV cache stays warm; the loop
grounds the calls). A simple lookup is `SMALL_LOOKUPS` tool turns and an answer: after them the
small model is asked for an answer only (`tool_choice="none"`).

The small model fails when it writes something unusable (unreadable output, an empty answer, a
tool call as text, an invalid call, or on its first turn an answer before looking anything up),
and when its lookup goes wrong (a lookup that returned only errors, more than `SMALL_MAX_STEPS`
turns, an answer naming nothing the tools returned). Either way the large model takes the
question for the rest of the run. After an unusable turn it carries on from the small model's
lookups; after a wrong lookup it starts over from the question with the small model's turns hidden
from it (they stay in the transcript and the trace), because a large model shown a wrong lookup
tends to give up rather than look again. The small model's answers are held from a streaming
client until they are accepted.

Decisions come from the loop's `RunContext` (the question, the step, typed tool results); the
state of one run lives in its `RouterRun`, created when the run starts. Every step's `Route` says
what was decided and why; `router.decision` / `router.escalate` events are logged. It does not
build models or run tools. Cue words live in `agent/prompts/router_cues.toml`.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

import structlog

from agent.config import RouterSettings
from agent.messages import Message, ModelResponse, ToolSpec
from agent.models.base import Model
from agent.policy import Rejection, RunContext, StepPlan, plan_step
from agent.trace import Route
from agent.validation import check_call

__all__ = ["SMALL_LOOKUPS", "SMALL_MAX_STEPS", "Router", "RouterRun", "complexity", "grounded", "unusable"]

log = structlog.get_logger(__name__)

SMALL_LOOKUPS = 1  # tool turns of the small model before it must answer: a lookup, then the answer
SMALL_MAX_STEPS = 4  # past this many turns the small model is lost: the large one takes over

_TOKEN = re.compile(r"[A-Za-z0-9]+")

Size = Literal["small", "large"]


@dataclass(frozen=True)
class _Cues:
    phrases: tuple[tuple[re.Pattern[str], float], ...]
    long_words: int
    long_weight: float


@cache
def _cues() -> _Cues:
    data = tomllib.loads(resources.files("agent.prompts").joinpath("router_cues.toml").read_text())
    phrases = tuple(
        (re.compile(r"\b" + re.escape(p.strip().lower()) + r"\b"), float(w))
        for p, w in data.get("complexity", {}).items()
    )
    limits = data.get("limits", {})
    return _Cues(phrases, int(limits.get("long_words", 18)), float(limits.get("long_question", 0.3)))


def complexity(question: str) -> tuple[float, list[str]]:
    """How far `question` is from a single lookup, 0..1, and the cues that said so."""
    cues = _cues()
    text = " ".join(question.lower().split())
    score, found = 0.0, []
    for pattern, weight in cues.phrases:
        if pattern.search(text):
            score += weight
            found.append(pattern.pattern.strip("\\b").replace("\\ ", " "))
    if len(text.split()) > cues.long_words:
        score += cues.long_weight
        found.append("long question")
    if text.count("?") > 1:
        score += 0.3
        found.append("several questions")
    return min(1.0, score), found


def _specifics(text: str) -> set[str]:
    """The words of `text` that name something: with a digit (ids, dates, counts) or Capitalised."""
    return {
        w.lower()
        for w in _TOKEN.findall(text)
        if any(c.isdigit() for c in w) or (len(w) >= 3 and w[0].isupper() and not w.isupper())
    }


def grounded(answer: str, messages: Sequence[Message]) -> bool:
    """Whether a final answer repeats a specific the tools returned (true when no tool ran yet).

    A specific is a word with a digit (an id, a date, a count) or a Capitalised word (a name, a
    title). The answer must share one with the tool results that the question and the system prompt
    do not already contain. Catches answers that echo the prompt or invent, such as "Mark the task
    as overdue." or "plainly that you do not know." after a lookup; an honest "I do not know" is
    not grounded either, and goes to the large model, which may know better.
    """
    results = " ".join(m.content for m in messages if m.role == "tool")
    if not results:
        return True
    given = " ".join(m.content for m in messages if m.role in ("system", "user"))
    known = {w.lower() for w in _TOKEN.findall(given)}
    return bool((_specifics(answer) - known) & _specifics(results))


def unusable(response: ModelResponse, tools: Sequence[ToolSpec], *, first_turn: bool) -> Rejection | None:
    """Why `response` cannot be used, or None.

    Unusable: a parse error, an empty answer, a tool call written out as text, a call the loop
    would refuse (`agent.validation`), and on the run's first turn an answer given before looking
    anything up although tools were offered.
    """
    if response.parse_error:
        return Rejection("unreadable", f"unreadable output: {response.parse_error}")
    if not response.tool_calls:
        text = response.text
        if not text.strip():
            return Rejection("empty", "empty answer")
        if '"arguments"' in text and any(f'"{t.name}"' in text for t in tools):
            return Rejection("call_as_text", "tool call written as text")
        if first_turn and tools:
            return Rejection("no_lookup", "answered without looking anything up")
        return None
    for call in response.tool_calls:
        problem = check_call(call, tools)
        if problem is not None:
            return Rejection(problem.kind, f"{problem.kind.replace('_', ' ')}: {problem.message}")
    return None


@dataclass
class RouterRun:
    """One run's route: the decision made at its start, and the escalation once there is one."""

    small: Model
    large: Model
    checking: bool  # mode "auto": the small model's turns are checked, and it may be replaced
    decided: Size
    reason: str
    complexity: float
    decide_ms: float
    escalation: Rejection | None = None
    hidden: int = 0  # the run's first turns the large model does not see (the small model's)

    @property
    def size(self) -> Size:
        """Who answers now: the decision, or "large" once escalated."""
        return "large" if self.escalation is not None else self.decided

    def plan(self, ctx: RunContext) -> StepPlan:
        """The small model, checked and with its answer held; or the large one, from a fresh start
        after a wrong lookup. A small model past its limits is replaced before it is asked."""
        if self.size == "small" and self.checking:
            if ctx.step - 1 >= SMALL_MAX_STEPS:
                passed = Rejection("step_limit", f"small model passed {SMALL_MAX_STEPS} steps")
                self._escalate(ctx, passed, restart=True)
            elif ctx.last_results and all(r.is_error for r in ctx.last_results):
                failed = Rejection("lookup_failed", "the small model's lookup failed")
                self._escalate(ctx, failed, restart=True)
        route = Route(
            decided=self.decided,
            choice=self.size,
            reason=f"escalated: {self.escalation.why}" if self.escalation else self.reason,
            escalation=self.escalation.kind if self.escalation else None,
            complexity=round(self.complexity, 2),
            decide_ms=round(self.decide_ms, 3) if ctx.step == 1 else 0.0,
        )
        if self.size == "large":
            return plan_step(ctx, self.large, hidden=self.hidden, route=route)
        # a simple lookup: after its lookups the small model answers
        done = self.checking and len(ctx.results) >= SMALL_LOOKUPS
        return plan_step(ctx, self.small, hold=self.checking, answer=done, route=route)

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        """Why the small model's response is not used (it escalates), or None."""
        if plan.model is not self.small or not self.checking or self.escalation is not None:
            return None
        problem = unusable(response, ctx.tools, first_turn=ctx.step == 1)
        if problem is not None:
            self._escalate(ctx, problem, restart=False)  # carry on from the small model's lookups
            return problem
        if not response.tool_calls and not grounded(response.text, ctx.messages):
            problem = Rejection("ungrounded", "answer not grounded in the tool results")
            self._escalate(ctx, problem, restart=True)
            return problem
        return None

    def _escalate(self, ctx: RunContext, why: Rejection, restart: bool) -> None:
        self.escalation, self.hidden = why, len(ctx.turns) if restart else 0
        log.info(
            "router.escalate", kind=why.kind, reason=why.why, small=self.small.name, large=self.large.name
        )


@dataclass
class Router:
    """A policy that answers each question with `small` or `large` (see the module docstring)."""

    small: Model
    large: Model
    settings: RouterSettings = field(default_factory=RouterSettings)

    @classmethod
    def from_settings(cls, settings: RouterSettings, models: Mapping[str, Model]) -> Router:
        """A router over the models named in `settings`, taken from `models`.

        A loaded `Config` has checked that `small` and `large` are set and name models in `[models]`.
        """
        assert settings.small is not None and settings.large is not None, "checked by Config"
        return cls(small=models[settings.small], large=models[settings.large], settings=settings)

    @property
    def name(self) -> str:
        """`router(small|large)`."""
        return f"router({self.small.name}|{self.large.name})"

    def begin(self, question: str, tools: Sequence[ToolSpec]) -> RouterRun:
        """Decide small or large for `question`; logs `router.decision` with its timing."""
        started = time.perf_counter()
        mode = self.settings.mode
        score, cues = complexity(question)
        decided: Size
        if mode != "auto":
            decided, reason = ("small" if mode == "always_small" else "large"), f"mode {mode}"
        elif 1.0 - score >= self.settings.confidence:
            decided, reason = "small", f"simple lookup (complexity {score:.2f})"
        else:
            decided, reason = "large", f"complex (complexity {score:.2f}: {', '.join(cues)})"
        decide_ms = (time.perf_counter() - started) * 1000
        log.info(
            "router.decision",
            model=decided,
            reason=reason,
            decide_ms=round(decide_ms, 3),
            complexity=round(score, 2),
        )
        return RouterRun(self.small, self.large, mode == "auto", decided, reason, score, decide_ms)
