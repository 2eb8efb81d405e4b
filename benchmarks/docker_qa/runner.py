"""Run the agent over the Docker questions, with the Docker and Kanboard servers in-process.

The agent sees both servers' tools, prefixed as in a real setup (`docker__…`, `kanboard__…`):
the Docker server over the engine at `docker_host`, the Kanboard server over the demo board. For
each question it snapshots the engine (and the board for cross-server questions) for the truth,
and asks a `benchmarks.runner.AgentStack`, which runs the agent loop; the runner scores the answer
with `benchmarks.kanboard_qa.scoring`. Building models and printing live in `__main__`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import anyio

from agent.config import AgentSettings
from agent.models.base import Model
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from benchmarks.docker_qa.engine import snapshot
from benchmarks.docker_qa.questions import Question
from benchmarks.kanboard_qa.board import snapshot as board_snapshot
from benchmarks.runner import AgentStack, Outcome, Results, outcome, take_turns
from tools.docker import DockerSettings
from tools.docker import build_server as docker_server
from tools.kanboard import KanboardSettings
from tools.kanboard import build_server as kanboard_server
from tools.kanboard_demo import demo_transport

__all__ = ["run_questions"]


async def run_questions(
    model: Model,
    questions: Sequence[Question],
    *,
    docker_host: str,
    label: str,
    agent_settings: AgentSettings | None = None,
    config: dict[str, object] | None = None,
    on_outcome: Callable[[str, Outcome], None] | None = None,
) -> Results:
    """Ask every question with `model`; both servers in-process, one toolbox for the whole run."""
    docker = DockerSettings(host=docker_host)
    board = demo_transport()
    started = datetime.now(UTC).isoformat(timespec="seconds")

    async def ask(stack: AgentStack, question: Question) -> Outcome:
        engine = await snapshot(docker)
        truth = question.truth(engine, await board_snapshot(board) if question.kanboard else None)
        return outcome(question, truth, await stack.run(question.text))

    async with anyio.create_task_group() as tg:
        toolbox = Toolbox(
            [
                MCPToolset("docker", tg, server=docker_server(docker)),
                MCPToolset("kanboard", tg, server=kanboard_server(KanboardSettings(), transport=board)),
            ]
        )
        stack = AgentStack(label, model, toolbox, agent_settings or AgentSettings(max_steps=6))
        try:
            (outcomes,) = await take_turns([stack], questions, ask, on_outcome=on_outcome, board="docker")
        finally:
            await toolbox.aclose()
            tg.cancel_scope.cancel()
    return Results(label=label, board="docker", started_at=started, config=config or {}, outcomes=outcomes)
