"""Run the agent over the Docker questions, with the Docker and Kanboard servers in-process.

The agent sees both servers' tools, prefixed as in a real setup (`docker__…`, `kanboard__…`):
the Docker server over the engine at `docker_host`, the Kanboard server over the demo board. For
each question it snapshots the engine (and the board for cross-server questions), runs the agent
loop, and scores the answer with `benchmarks.kanboard_qa.scoring`. Building models and printing
live in `__main__`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import anyio
import structlog
from pydantic import BaseModel, Field

from agent.config import AgentSettings
from agent.exceptions import RunError
from agent.loop import Agent
from agent.messages import Usage
from agent.models.base import Model
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from agent.trace import RunResult, Step
from benchmarks.docker_qa.engine import snapshot
from benchmarks.docker_qa.questions import Question
from benchmarks.kanboard_qa.board import snapshot as board_snapshot
from benchmarks.kanboard_qa.scoring import score_answer
from tools.docker import DockerSettings
from tools.docker import build_server as docker_server
from tools.kanboard import KanboardSettings
from tools.kanboard import build_server as kanboard_server
from tools.kanboard_demo import demo_transport

__all__ = ["Outcome", "Results", "run_questions"]

log = structlog.get_logger(__name__)


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
    latency_s: float = 0.0
    input_tokens: int = 0
    steps: int = 0
    tools: list[str] = Field(default_factory=list)  # tools called, in order


class Results(BaseModel):
    """One model's run over the questions."""

    label: str
    started_at: str = ""
    config: dict[str, object] = Field(default_factory=dict)
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


async def run_questions(
    model: Model,
    questions: Sequence[Question],
    *,
    docker_host: str,
    label: str,
    agent_settings: AgentSettings | None = None,
    config: dict[str, object] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Results:
    """Ask every question with `model`; both servers in-process, one toolbox for the whole run."""
    settings = agent_settings or AgentSettings(max_steps=6)
    docker = DockerSettings(host=docker_host)
    board = demo_transport()
    results = Results(
        label=label, started_at=datetime.now(UTC).isoformat(timespec="seconds"), config=config or {}
    )
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox(
            [
                MCPToolset("docker", tg, server=docker_server(docker)),
                MCPToolset("kanboard", tg, server=kanboard_server(KanboardSettings(), transport=board)),
            ]
        )
        try:
            for question in questions:
                engine = await snapshot(docker)
                truth = question.truth(engine, await board_snapshot(board) if question.kanboard else None)
                outcome = Outcome(id=question.id, category=question.category, question=question.text)
                steps: list[Step] = []
                started = time.perf_counter()
                result: RunResult | None = None
                try:
                    result = await Agent(model, toolbox, settings).run(question.text, on_step=steps.append)
                except RunError as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"
                outcome.latency_s = time.perf_counter() - started
                outcome.answer = result.answer if result else ""
                outcome.steps = len(steps)
                outcome.tools = [c.name for s in steps for c in s.tool_calls]
                outcome.input_tokens = sum((s.usage for s in steps), Usage()).input_tokens
                partial = result or RunResult(
                    answer="", steps=steps, usage=Usage(), duration_s=outcome.latency_s
                )
                score = score_answer(outcome.answer, truth, partial)
                outcome.correct = score.correct and outcome.error is None
                outcome.valid_calls = score.valid_calls
                outcome.missing, outcome.forbidden_found = score.missing, score.forbidden_found
                log.info("benchmark.question", label=label, id=question.id, correct=outcome.correct)
                results.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()
    return results
