"""Run the agent over the questions against an in-process demo board and record every answer.

One `run_questions` call is one configuration: one answering `Model` (a local GGUF, a router, or a
scripted model in tests); `run_side_by_side` runs several, question by question. Each asks through
the servers the example config ships (Kanboard and Docker, in-process: `servers`) or, for
comparison, the Kanboard server alone, over the suite's board, with the agent loop.
For each question it snapshots the board, asks the contender's `benchmarks.runner.AgentStack`
(the runner scores the answer and records latency split into prefill, decode, tool and other time)
and checks a write request's board afterwards. Building models from the command line lives in
`__main__`; tables and plots in `report`.
"""

from __future__ import annotations

import platform
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
from pydantic import SecretStr

from agent.config import AgentSettings
from agent.models.base import Model
from agent.policy import Policy
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from benchmarks.kanboard_qa.board import snapshot
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.scoring import score_answer
from benchmarks.kanboard_qa.servers import Servers, open_servers
from benchmarks.kanboard_qa.suites import SUITES, Suite
from benchmarks.runner import AgentStack, Outcome, Reset, Results, outcome, take_turns
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL

__all__ = ["Contender", "demo_toolbox", "rescore", "run_questions", "run_side_by_side"]


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


async def _ask(stack: AgentStack, question: Question, transport: httpx.AsyncBaseTransport) -> Outcome:
    """Truth from the board right before the answer; a write request's check on the board after it."""
    truth = question.truth(await snapshot(transport))
    done = outcome(question, truth, await stack.run(question.text))
    if question.check is not None:
        done.write_problems = question.check(await snapshot(transport))
        done.correct = done.correct and not done.write_problems
    return done


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
    on_outcome: Callable[[str, Outcome], None] | None = None,
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
        on_outcome=on_outcome,
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
        stacks = [
            AgentStack(c.label, c.model, read_tools, c.settings or settings, c.reset) for c in contenders
        ]

        async def ask(stack: AgentStack, question: Question) -> Outcome:
            if not question.writes:
                return await _ask(stack, question, reads)
            fresh = suite.transport()
            async with open_servers(servers, fresh, writes=True, kanboard=kanboard) as write_tools:
                return await _ask(stack.over(write_tools), question, fresh)

        outcomes = await take_turns(stacks, questions, ask, on_outcome=on_outcome, board=suite.name)
    for results, mine in zip(all_results, outcomes, strict=True):
        results.outcomes = list(mine)
    return all_results


async def rescore(results: Results) -> None:
    """Score the recorded answers of `results` again, against truth from a fresh demo board.

    For after a change to the scorer or the truth. Write requests keep their board check, and tool
    call validity is kept as recorded (the steps are not stored).
    """
    suite = SUITES[results.board]
    by_id = {q.id: q for q in suite.questions}
    board = await snapshot(suite.transport())
    for recorded in results.outcomes:
        question = by_id.get(recorded.id)
        if question is None or question.writes:
            continue
        score = score_answer(recorded.answer, question.truth(board))
        recorded.correct = score.correct and recorded.error is None
        recorded.missing, recorded.forbidden_found = score.missing, score.forbidden_found
