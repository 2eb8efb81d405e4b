"""The router: a `Model` that picks the tools and the model for each question, cheaply.

Most of a question's time on a small GPU or a CPU goes into pushing the system prompt and every
tool definition through the model, and into running a large model where a small one would do.
`Router` wraps a small and a large model and, once per run (on the first request after the user's
question), decides in well under a millisecond from lexical cues:

    question ──> BM25 over tool names + descriptions (with synonyms) ──> the `max_tools` best
             │   tools, best first (small models lean towards the first tool they are shown)
             └─> complexity cues (counting, comparing, writes, length) ──> small or large
                 (optionally, when unsure, a one-word "simple"/"complex" from `router_model`)

The decision is kept for the run's later steps, so the answering model sees the same short tool
list every step and its prompt cache stays warm. A simple lookup is `small_lookups` tool turns and
an answer: after them the small model is asked for an answer only (`tool_choice="none"`).

The small model fails when it writes something unusable (unreadable output, an empty answer, a
tool call as text, an unknown tool, arguments its schema rejects), and when its lookup goes wrong
(a lookup that returned only errors, more than `small_max_steps` turns, with `require_lookup` an
answer before looking anything up, with `require_grounding` an answer naming nothing the tools
returned). Either way the large model takes the question for the rest of the run. After an
unusable turn it carries on from the small model's lookups; after a wrong lookup it starts over
from the question, with the small model's turns hidden from it (they stay in the transcript and
the trace), because a large model shown a wrong lookup tends to give up rather than look again.
An answer of the small model that may still be rejected is held back from `on_text`.

The router holds no conversation object: a run is recognised from its messages (the last real user
question and the messages after it), and decisions are cached by that. It does not build models,
run tools or keep metrics; every response's `route` says what was decided (and why, and how long
deciding took), and `router.decision` / `router.escalate` events are logged. Cue words live in
`agent/prompts/router_cues.toml`.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import tomllib
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import structlog

from agent.config import RouterSettings
from agent.exceptions import ConfigError
from agent.loop import CORRECTION_PREFIX, ERROR_PREFIX
from agent.messages import Message, ModelResponse, ToolSpec
from agent.models.base import Model, TextSink, ToolChoice
from agent.validation import check_call

__all__ = [
    "Decision",
    "Failure",
    "Router",
    "ToolRanker",
    "complexity",
    "failure",
    "find_question",
    "grounded",
    "lookup_failed",
]

log = structlog.get_logger(__name__)

_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_CACHE_SIZE = 512


@dataclass(frozen=True)
class _Cues:
    synonyms: dict[str, tuple[str, ...]]
    phrases: tuple[tuple[re.Pattern[str], float], ...]
    long_words: int
    long_weight: float


@cache
def _cues() -> _Cues:
    data = tomllib.loads(resources.files("agent.prompts").joinpath("router_cues.toml").read_text())
    synonyms = {_stem(k): tuple(_stem(w) for w in v) for k, v in data.get("synonyms", {}).items()}
    phrases = tuple(
        (re.compile(r"\b" + re.escape(p.strip().lower()) + r"\b"), float(w))
        for p, w in data.get("complexity", {}).items()
    )
    limits = data.get("limits", {})
    return _Cues(
        synonyms, phrases, int(limits.get("long_words", 18)), float(limits.get("long_question", 0.3))
    )


@cache
def _router_prompt() -> str:
    return resources.files("agent.prompts").joinpath("router.md").read_text()


def _stem(word: str) -> str:
    """A crude stemmer: enough to meet 'comments'/'comment', 'assigned'/'assign', 'tasks'/'task'."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


# Tool choice ---------------------------------------------------------------------------------------


class ToolRanker:
    """BM25 of a question (expanded with synonyms) against each tool's name, description and parameters."""

    K1 = 1.2
    B = 0.75
    NAME_WEIGHT = 2  # a word in the tool's own name counts this many times

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self.tools = list(tools)
        self._docs = [self._document(t) for t in self.tools]
        self._avg = sum(sum(d.values()) for d in self._docs) / max(1, len(self._docs))
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        n = len(self._docs)
        self._idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}

    @classmethod
    def _document(cls, tool: ToolSpec) -> Counter[str]:
        name = tool.name.rsplit("__", 1)[-1]
        doc: Counter[str] = Counter()
        for _ in range(cls.NAME_WEIGHT):
            doc.update(_words(name.replace("_", " ")))
        doc.update(_words(tool.description))
        doc.update(_words(" ".join(tool.parameters.get("properties", {}))))
        return doc

    def query(self, question: str) -> Counter[str]:
        """The question's words plus their synonyms."""
        synonyms = _cues().synonyms
        words: Counter[str] = Counter()
        for w in _words(question):
            words[w] += 1
            for extra in synonyms.get(w, ()):
                words[extra] += 1
        if re.search(r"#\d+", question):  # a task named by id
            words.update(["task", "full"])
        return words

    def scores(self, question: str) -> list[float]:
        """One BM25 score per tool, in the order the tools were given."""
        query = self.query(question)
        out: list[float] = []
        for doc in self._docs:
            length = sum(doc.values())
            score = 0.0
            for word, q in query.items():
                tf = doc.get(word, 0)
                if tf:
                    norm = tf * (self.K1 + 1) / (tf + self.K1 * (1 - self.B + self.B * length / self._avg))
                    score += self._idf[word] * norm * q
            out.append(score)
        return out

    def top(self, question: str, k: int) -> list[ToolSpec]:
        """The `k` best tools for `question`, best first (ties: earlier tool first).

        Best first because small models lean towards the first tool they are shown.
        """
        scores = self.scores(question)
        best = sorted(range(len(self.tools)), key=lambda i: (-scores[i], i))[:k]
        return [self.tools[i] for i in best]


# Model choice --------------------------------------------------------------------------------------


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


def find_question(messages: Sequence[Message]) -> int | None:
    """Index of the user question the current run answers (skipping the loop's corrections)."""
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m.role == "user" and not m.content.startswith(CORRECTION_PREFIX):
            return i
    return None


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


def lookup_failed(messages: Sequence[Message]) -> bool:
    """Whether the latest tool results (those after the last assistant turn) are all errors."""
    latest: list[Message] = []
    for m in reversed(messages):
        if m.role != "tool":
            break
        latest.append(m)
    return bool(latest) and all(m.content.lower().startswith(ERROR_PREFIX.lower()) for m in latest)


class Failure(NamedTuple):
    """Why the small model's turn was not used: a short `kind` (a metrics label) and the details."""

    kind: str  # unreadable, empty, call_as_text, unknown_tool, invalid_arguments, no_lookup,
    # ungrounded, lookup_failed or step_limit
    why: str


def failure(
    response: ModelResponse, tools: Sequence[ToolSpec], *, first_turn: bool = False
) -> Failure | None:
    """Why `response` is unusable, or None.

    Unusable: a parse error, an empty answer, a tool call written out as text, a call to an unknown
    tool or with arguments its schema rejects, and (with `first_turn`) an answer given before
    looking anything up although tools were offered.
    """
    if response.parse_error:
        return Failure("unreadable", f"unreadable output: {response.parse_error}")
    if not response.tool_calls:
        text = response.text
        if not text.strip():
            return Failure("empty", "empty answer")
        if '"arguments"' in text and any(f'"{t.name}"' in text for t in tools):
            return Failure("call_as_text", "tool call written as text")
        if first_turn and tools:
            return Failure("no_lookup", "answered without looking anything up")
        return None
    for call in response.tool_calls:
        problem = check_call(call, tools)
        if problem is not None:
            return Failure(problem.kind, f"{problem.kind.replace('_', ' ')}: {problem.message}")
    return None


@dataclass
class Decision:
    """What the router decided for one run."""

    model: str  # "small" or "large"
    reason: str
    tools: list[ToolSpec]
    decide_ms: float
    complexity: float
    escalation: Failure | None = None  # why the small model was replaced, once it was
    hidden: int = 0  # messages after the question that the large model does not see (the small's turns)
    first_choice: ToolChoice = "auto"  # the tool choice of the run's first turn, for a restart

    @property
    def escalated(self) -> bool:
        """Whether the large model took over from the small one."""
        return self.escalation is not None


@dataclass
class Router:
    """A `Model` that sends each run to `small` or `large` with a short list of tools."""

    small: Model
    large: Model
    settings: RouterSettings = field(default_factory=RouterSettings)
    router_model: Model | None = None
    _runs: OrderedDict[str, Decision] = field(default_factory=OrderedDict, init=False, repr=False)
    _rankers: dict[tuple[str, ...], ToolRanker] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: RouterSettings, models: Mapping[str, Model]) -> Router:
        """A router over the models named in `settings`, taken from `models`.

        Raises:
            ConfigError: `small` or `large` is not set, or names a model not in `models`.
        """

        def get(key: str, name: str | None) -> Model:
            if name is None:
                raise ConfigError(f"router.{key} is not set; the router needs router.small and router.large")
            if name not in models:
                raise ConfigError(f"router.{key} = {name!r} is not a built model (have: {', '.join(models)})")
            return models[name]

        small, large = get("small", settings.small), get("large", settings.large)
        router_model = get("router_model", settings.router_model) if settings.router_model else small
        return cls(small=small, large=large, settings=settings, router_model=router_model)

    @property
    def name(self) -> str:
        """`router(small|large)`."""
        return f"router({self.small.name}|{self.large.name})"

    async def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        *,
        on_text: TextSink | None = None,
        tool_choice: ToolChoice = "auto",
        calls: Sequence[ToolSpec] | None = None,
    ) -> ModelResponse:
        """Decide (once per run), answer with the chosen model, and escalate when the small one fails."""
        q = find_question(messages)
        start = (q if q is not None else -1) + 1  # the run's own messages begin here
        turns = sum(1 for m in messages[start:] if m.role == "assistant")
        decision = await self._decision(messages, q, tools, new_run=turns == 0)
        if turns == 0:
            decision.first_choice = tool_choice
        s = self.settings
        checking = s.mode == "auto" and s.escalate
        restart = len(messages) - start  # hide all of the small model's turns from the large one
        if decision.model == "small" and checking and not decision.escalated:
            if turns >= s.small_max_steps:
                why = Failure("step_limit", f"small model passed {s.small_max_steps} steps")
                self._escalate(decision, why, hide=restart)
            elif lookup_failed(messages):
                self._escalate(
                    decision, Failure("lookup_failed", "the small model's lookup failed"), hide=restart
                )
        if decision.model == "large" or decision.escalated:
            response = await self._ask_large(messages, start, decision, on_text, tool_choice, calls)
        else:
            lookups = sum(1 for m in messages[start:] if m.role == "tool")
            small_choice = tool_choice
            if lookups >= s.small_lookups and s.mode == "auto" and tool_choice == "auto":
                small_choice = "none"  # a simple lookup: after its lookups the small model answers
            first = turns == 0 and s.require_lookup and checking
            # An answer that may still be rejected is held until it is accepted, so a streaming
            # client never sees the small model's answer followed by the large one's.
            held: list[str] = []
            hold = checking and (first or s.require_grounding) and on_text is not None
            sink = held.append if hold else on_text
            response = await self.small.respond(
                messages,
                decision.tools,
                on_text=sink,
                tool_choice=small_choice,
                calls=_within(calls, decision.tools),
            )
            problem = failure(response, decision.tools, first_turn=first) if checking else None
            hide = 0  # a badly written turn: the large model takes over from the small one's lookups
            if (
                problem is None
                and checking
                and s.require_grounding
                and not response.tool_calls
                and not grounded(response.text, messages)
            ):
                problem, hide = Failure("ungrounded", "answer not grounded in the tool results"), restart
            if problem is not None:
                self._escalate(decision, problem, tools=tools, response=response, hide=hide)
                response = await self._ask_large(messages, start, decision, on_text, tool_choice, calls)
            elif held and on_text is not None:
                on_text("".join(held))
        route: dict[str, Any] = {
            "model": response.model
            or (self.large.name if decision.escalated or decision.model == "large" else self.small.name),
            "choice": "large" if decision.escalated else decision.model,
            "reason": f"escalated: {decision.escalation.why}" if decision.escalation else decision.reason,
            "tools": [t.name for t in decision.tools],
            "decide_ms": round(decision.decide_ms, 3) if turns == 0 else 0.0,
            "escalated": decision.escalated,
            "decided": decision.model,
            "escalation": decision.escalation.kind if decision.escalation else None,
            "complexity": round(decision.complexity, 2),
            "turn": turns + 1,
        }
        return response.model_copy(update={"route": route})

    async def _ask_large(
        self,
        messages: Sequence[Message],
        start: int,
        decision: Decision,
        on_text: TextSink | None,
        tool_choice: ToolChoice,
        calls: Sequence[ToolSpec] | None,
    ) -> ModelResponse:
        """The large model's turn, on the conversation without the small model's hidden turns."""
        allowed = _within(calls, decision.tools)
        if not decision.hidden:
            return await self.large.respond(
                messages, decision.tools, on_text=on_text, tool_choice=tool_choice, calls=allowed
            )
        view = [*messages[:start], *messages[start + decision.hidden :]]
        if not any(m.role == "assistant" for m in view[start:]):  # its first turn: the run's first rule
            tool_choice = decision.first_choice
        return await self.large.respond(
            view, decision.tools, on_text=on_text, tool_choice=tool_choice, calls=allowed
        )

    def _escalate(
        self,
        decision: Decision,
        why: Failure,
        *,
        hide: int,
        tools: Sequence[ToolSpec] = (),
        response: ModelResponse | None = None,
    ) -> None:
        decision.escalation, decision.hidden = why, hide
        if response is not None:  # the small model reached for a tool the ranker left out: offer it
            offered = {t.name for t in decision.tools}
            for call in response.tool_calls:
                extra = next((t for t in tools if t.name == call.name and t.name not in offered), None)
                if extra is not None:
                    decision.tools.append(extra)
                    offered.add(extra.name)
        log.info(
            "router.escalate", kind=why.kind, reason=why.why, small=self.small.name, large=self.large.name
        )

    async def _decision(
        self, messages: Sequence[Message], q: int | None, tools: Sequence[ToolSpec], *, new_run: bool
    ) -> Decision:
        key = _run_key(messages, q, tools)
        found = self._runs.get(key)
        if found is not None and not new_run:
            self._runs.move_to_end(key)
            return found
        decision = await self.decide(messages[q].content if q is not None else "", tools)
        self._runs[key] = decision
        while len(self._runs) > _CACHE_SIZE:
            self._runs.popitem(last=False)
        return decision

    async def decide(self, question: str, tools: Sequence[ToolSpec]) -> Decision:
        """Pick the tools and the model for `question`; logs `router.decision` with its timing."""
        started = time.perf_counter()
        names = tuple(t.name for t in tools)
        ranker = self._rankers.get(names)
        if ranker is None:
            ranker = self._rankers[names] = ToolRanker(tools)
        chosen = ranker.top(question, self.settings.max_tools)
        score, cues = complexity(question)
        s = self.settings
        simple = 1.0 - score
        asked_ms = 0.0
        if s.mode != "auto":
            model, reason = ("small" if s.mode == "always_small" else "large"), f"mode {s.mode}"
        elif (
            s.classify_with_model
            and self.router_model is not None
            and abs(simple - s.confidence) < s.model_band
        ):
            asked = time.perf_counter()
            verdict = await self._ask(question)
            asked_ms = (time.perf_counter() - asked) * 1000
            model = "small" if verdict == "simple" else "large"
            reason = f"router model says {verdict} (cues {score:.2f}: {', '.join(cues) or 'none'})"
        elif simple >= s.confidence:
            model, reason = "small", f"simple lookup (complexity {score:.2f})"
        else:
            model, reason = "large", f"complex (complexity {score:.2f}: {', '.join(cues)})"
        decide_ms = (time.perf_counter() - started) * 1000
        log.info(
            "router.decision",
            model=model,
            reason=reason,
            tools=[t.name for t in chosen],
            decide_ms=round(decide_ms, 3),
            router_model_ms=round(asked_ms, 1),
            complexity=round(score, 2),
        )
        return Decision(model=model, reason=reason, tools=chosen, decide_ms=decide_ms, complexity=score)

    async def _ask(self, question: str) -> str:
        """One word from the router model: "simple" or "complex" (anything else counts as complex)."""
        assert self.router_model is not None
        prompt = _router_prompt().format(question=" ".join(question.split())[:500])
        response = await self.router_model.respond([Message.user(prompt)], [])
        word = next(iter(_WORD.findall(response.text.lower())), "")
        return "simple" if word.startswith("simple") else "complex"

    async def aclose(self) -> None:
        """Nothing to release: the models are owned (and closed) by whoever built them."""


def _within(calls: Sequence[ToolSpec] | None, tools: Sequence[ToolSpec]) -> list[ToolSpec] | None:
    """The allowed `calls` among the tools the router offers (None: any of them)."""
    if calls is None:
        return None
    names = {t.name for t in tools}
    return [c for c in calls if c.name in names]


def _run_key(messages: Sequence[Message], q: int | None, tools: Sequence[ToolSpec]) -> str:
    """One key per run: the conversation up to and including its question, and the tool names."""
    h = hashlib.blake2b(digest_size=16)
    for m in messages[: (q if q is not None else -1) + 1]:
        h.update(f"{m.role}\x00{m.content}\x00{len(m.tool_calls)}\x01".encode())
    h.update("\x02".join(t.name for t in tools).encode())
    return h.hexdigest()
