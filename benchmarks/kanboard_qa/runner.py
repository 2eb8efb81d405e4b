"""Run the agent over the questions against an in-process demo board and record every answer.

One `run_questions` call is one configuration: one answering `Model` (a local GGUF, a router, or a
scripted model in tests); `run_side_by_side` runs several, question by question. Each asks through
the servers the example config ships (Kanboard and Docker, in-process: `servers`) or, for
comparison, the Kanboard server alone, over the suite's board, with the agent loop.
For each question it snapshots the board, runs the agent, scores the answer and records latency
split into prefill, decode, tool and other time. Building models
from the command line lives in `__main__`; tables and plots in `report`.
"""

from __future__ import annotations

import inspect
import platform
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import structlog
from pydantic import BaseModel, Field, SecretStr

from agent.config import AgentSettings
from agent.exceptions import RunError
from agent.loop import Agent
from agent.messages import Usage
from agent.models.base import Model
from agent.policy import Policy
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from agent.trace import Route, RunResult, Step
from benchmarks.kanboard_qa.board import snapshot
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.scoring import score_answer
from benchmarks.kanboard_qa.servers import Servers, open_servers
from benchmarks.kanboard_qa.suites import SUITES, Suite
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL

__all__ = [
    "Contender",
    "Outcome",
    "demo_toolbox",
    "Reset",
    "Results",
    "rescore",
    "run_questions",
    "run_side_by_side",
]

log = structlog.get_logger(__name__)

Reset = Callable[[], Awaitable[None] | None]
"""Clears the model's caches before a question (for `--warm off`)."""


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
    routes: list[Route] = Field(default_factory=list)
    # how the answer was written: "direct" (a tool's list, no model turn), "lead" (the model's lead,
    # then the list as given) or "model" (every token by the model; `agent.quoting`)
    answer_kind: str = "model"


class Results(BaseModel):
    """One configuration's run over the questions."""

    label: str
    board: str = "homelab"  # the suite asked (see `suites`)
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


def _machine() -> dict[str, Any]:
    import os

    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}


@asynccontextmanager
async def demo_toolbox(
    transport: httpx.AsyncBaseTransport, writes: bool, kanboard: KanboardSettings | None = None
) -> AsyncIterator[Toolbox]:
    """A toolbox with the Kanboard MCP server in-process over `transport` (the demo board).

    The server is set up as for a real Kanboard (the demo board's URL and token, so no demo banner
    in its answers); `kanboard` sets its other options (names in schemas...).
    """
    real = {"url": DEMO_URL, "secret": SecretStr(DEMO_TOKEN), "enable_writes": writes}
    settings = (kanboard or KanboardSettings()).model_copy(update=real)
    async with anyio.create_task_group() as tg:
        server = build_server(settings, transport=transport)
        toolbox = Toolbox([MCPToolset("kanboard", tg, server=server)])
        try:
            yield toolbox
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()


def _fill(outcome: Outcome, steps: Sequence[Step], duration_s: float, answer: str) -> None:
    """Costs from the steps taken (all of them, also when the run ended in an error)."""
    u = sum((s.usage for s in steps), Usage())
    tool_s = sum(s.tool_s for s in steps)
    outcome.answer = answer
    outcome.latency_s = duration_s
    outcome.prefill_s, outcome.decode_s, outcome.tool_s = u.prefill_s, u.decode_s, tool_s
    outcome.other_s = max(0.0, duration_s - u.prefill_s - u.decode_s - tool_s)
    outcome.input_tokens, outcome.cached_tokens, outcome.output_tokens = (
        u.input_tokens,
        u.cached_tokens,
        u.output_tokens,
    )
    outcome.steps = len(steps)
    outcome.models = [s.model for s in steps]
    outcome.tools = [c.name for s in steps for c in s.tool_calls]
    outcome.routes = [s.route for s in steps if s.route]
    last = steps[-1] if steps else None
    outcome.answer_kind = "direct" if last and last.direct else "lead" if last and last.quoted else "model"


async def _ask(
    model: Model | Policy,
    toolbox: Toolbox,
    question: Question,
    transport: httpx.AsyncBaseTransport,
    settings: AgentSettings,
) -> Outcome:
    board = await snapshot(transport)
    truth = question.truth(board)
    outcome = Outcome(id=question.id, category=question.category, question=question.text)
    steps: list[Step] = []
    started = time.perf_counter()
    result: RunResult | None = None
    try:
        result = await Agent(model, toolbox, settings).run(question.text, on_step=steps.append)
    except RunError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    _fill(outcome, steps, time.perf_counter() - started, result.answer if result else "")
    if result is not None:
        outcome.latency_s = result.duration_s
        outcome.first_token_s = result.first_token_s
    partial = result or RunResult(answer="", steps=steps, usage=Usage(), duration_s=outcome.latency_s)
    score = score_answer(outcome.answer, truth, partial)
    outcome.correct = score.correct and outcome.error is None
    outcome.valid_calls = score.valid_calls
    outcome.missing, outcome.forbidden_found, outcome.invalid = (
        score.missing,
        score.forbidden_found,
        score.invalid,
    )
    if question.check is not None:
        outcome.write_problems = question.check(await snapshot(transport))
        outcome.correct = outcome.correct and not outcome.write_problems
    return outcome


@dataclass(frozen=True)
class Contender:
    """One configuration in a side-by-side run: a label, its model and how to clear its caches."""

    label: str
    model: Model | Policy
    reset: Reset | None = None
    config: dict[str, Any] = field(default_factory=dict)
    settings: AgentSettings | None = None  # instead of the run's agent settings (an ablation)


async def run_questions(
    model: Model | Policy,
    questions: Sequence[Question],
    *,
    label: str,
    config: dict[str, Any] | None = None,
    agent_settings: AgentSettings | None = None,
    reset: Reset | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    suite: Suite = SUITES["homelab"],
    kanboard: KanboardSettings | None = None,
    servers: Servers | None = None,
) -> Results:
    """Ask every question of `questions` about `suite`'s board with `model`; writes get a fresh board."""
    (results,) = await run_side_by_side(
        [Contender(label, model, reset, config or {})],
        questions,
        agent_settings=agent_settings,
        suite=suite,
        kanboard=kanboard,
        servers=servers,
        on_outcome=lambda _, outcome: on_outcome(outcome) if on_outcome else None,
    )
    return results


async def run_side_by_side(
    contenders: Sequence[Contender],
    questions: Sequence[Question],
    *,
    agent_settings: AgentSettings | None = None,
    on_outcome: Callable[[str, Outcome], None] | None = None,
    suite: Suite = SUITES["homelab"],
    kanboard: KanboardSettings | None = None,
    servers: Servers | None = None,
) -> list[Results]:
    """Ask every question of every contender, question by question, taking turns at going first.

    The servers are those the example config ships unless `servers` says Kanboard alone.

    Interleaving puts the contenders under the same load (a busy CPU slows both, not one), and
    alternating who goes first cancels any advantage of following the other. Each contender keeps
    its own models, so one's prompt cache never serves the other.
    """
    settings = agent_settings or AgentSettings(max_steps=6)
    servers = servers or Servers()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    all_results = [
        Results(
            label=c.label,
            board=suite.name,
            config={**servers.describe(), **c.config},
            started_at=started,
            machine=_machine(),
        )
        for c in contenders
    ]
    reads = suite.transport()
    async with open_servers(servers, reads, writes=False, kanboard=kanboard) as read_tools:
        for n, question in enumerate(questions):
            order = list(range(len(contenders)))
            if n % 2:
                order.reverse()
            for i in order:
                contender, results = contenders[i], all_results[i]
                if contender.reset is not None:
                    outcome_of_reset = contender.reset()
                    if inspect.isawaitable(outcome_of_reset):
                        await outcome_of_reset
                own = contender.settings or settings
                if question.writes:
                    fresh = suite.transport()
                    async with open_servers(servers, fresh, writes=True, kanboard=kanboard) as write_tools:
                        outcome = await _ask(contender.model, write_tools, question, fresh, own)
                else:
                    outcome = await _ask(contender.model, read_tools, question, reads, own)
                log.info(
                    "benchmark.question",
                    board=suite.name,
                    label=contender.label,
                    id=question.id,
                    correct=outcome.correct,
                    seconds=round(outcome.latency_s, 2),
                )
                results.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(contender.label, outcome)
    return all_results


async def rescore(results: Results) -> None:
    """Score the recorded answers of `results` again, against truth from a fresh demo board.

    For after a change to the scorer or the truth. Write requests keep their board check, and tool
    call validity is kept as recorded (the steps are not stored).
    """
    suite = SUITES[results.board]
    by_id = {q.id: q for q in suite.questions}
    board = await snapshot(suite.transport())
    for outcome in results.outcomes:
        question = by_id.get(outcome.id)
        if question is None or question.writes:
            continue
        score = score_answer(outcome.answer, question.truth(board))
        outcome.correct = score.correct and outcome.error is None
        outcome.missing, outcome.forbidden_found = score.missing, score.forbidden_found
