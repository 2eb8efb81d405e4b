"""Ask every stack the same questions about one board, question by question, and score the answers.

As `benchmarks.kanboard_qa.runner.run_side_by_side` does: each question is asked of every stack in
turn, who goes first alternating, so a busy CPU slows all of them alike. The truth comes from a
snapshot of the board taken right before each answer, and `kanboard_qa.scoring` scores it, for us
and the peers alike. The board is the one the stacks read over HTTP; a stack that changes it (a
peer's model may call a write tool on a read question) is recorded, and the board is served afresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from pydantic import Field, SecretStr

from agent.messages import Usage
from agent.trace import RunResult
from benchmarks.kanboard_qa.board import Board, snapshot
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.runner import Outcome, Results
from benchmarks.kanboard_qa.scoring import DONT_KNOW, present, score_answer
from benchmarks.peers.stacks import Attempt, Stack
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN

__all__ = ["PeerOutcome", "ask_side_by_side", "failure_kind", "to_outcome"]

log = structlog.get_logger(__name__)


class PeerOutcome(Outcome):
    """An `Outcome` with what a comparison of stacks also needs."""

    tool_errors: list[str] = Field(default_factory=list)  # failed tool calls: "tool: first words"
    changed_board: bool = False  # the stack wrote to the board while answering a read question


def failure_kind(outcome: Outcome) -> str | None:
    """Why a question failed, in a word or three: the run's error type, "empty answer", "tool call as
    text" (the model wrote a call its server did not parse, so the host took it for the answer),
    "don't know" or "wrong"."""
    if outcome.correct:
        return None
    if outcome.error:
        return outcome.error.split(":", 1)[0]
    if not outcome.answer.strip():
        return "empty answer"
    if _tool_call_text(outcome.answer):
        return "tool call as text"
    return "don't know" if present(DONT_KNOW, outcome.answer) else "wrong"


_CALL_TEXT = re.compile(r'\{+\s*"name"\s*:\s*"[^"]+"\s*,\s*"arguments"\s*:')


def _tool_call_text(answer: str) -> bool:
    """Whether `answer` is a tool call in JSON ({"name": ..., "arguments": ...}) written as text: bare,
    in <tool_call> tags, in a ```json fence or with doubled braces, as the 1.5B writes them."""
    return bool(_CALL_TEXT.search(answer))


def to_outcome(question: Question, board: Board, attempt: Attempt) -> PeerOutcome:
    """Score `attempt` against the truth `question` computes from `board`, and sum its costs."""
    usage = sum((s.usage for s in attempt.steps), Usage())
    tool_s = sum(s.tool_s for s in attempt.steps)
    result = RunResult(answer=attempt.answer, steps=attempt.steps, usage=usage, duration_s=attempt.duration_s)
    score = score_answer(attempt.answer, question.truth(board), result)
    return PeerOutcome(
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
        prefill_s=usage.prefill_s,
        decode_s=usage.decode_s,
        tool_s=tool_s,
        other_s=max(0.0, attempt.duration_s - usage.prefill_s - usage.decode_s - tool_s),
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        steps=len(attempt.steps),
        models=[s.model for s in attempt.steps],
        tools=[c.name for s in attempt.steps for c in s.tool_calls],
        tool_errors=[
            f"{c.name}: {' '.join(c.result.split())[:100]}"
            for s in attempt.steps
            for c in s.tool_calls
            if c.is_error
        ],
    )


def _fingerprint(board: Board) -> str:
    """What a write would change: tasks, comments, subtasks, links and tags."""
    return repr((board.tasks, board.comments, board.subtasks, board.links, board.tags))


async def ask_side_by_side(
    stacks: Sequence[Stack],
    questions: Sequence[Question],
    *,
    board_name: str,
    board_url: Callable[[], str],
    restart_board: Callable[[], None],
    config: dict[str, dict[str, Any]],
    on_outcome: Callable[[str, PeerOutcome], None] | None = None,
) -> list[Results]:
    """Ask every question of every stack (who goes first alternates); one `Results` per stack.

    `board_url()` is where the board answers now; `restart_board()` serves a fresh copy (after a
    stack changed it). `config` describes each stack by label, for the result files.
    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    all_results = [
        Results(label=s.label, board=board_name, config=config.get(s.label, {}), started_at=started)
        for s in stacks
    ]
    for n, question in enumerate(questions):
        order = list(range(len(stacks)))
        if n % 2:
            order.reverse()
        for i in order:
            stack = stacks[i]
            before = await _snapshot(board_url())
            attempt = await stack.run(question.text)
            outcome = to_outcome(question, before, attempt)
            after = await _snapshot(board_url())
            if _fingerprint(after) != _fingerprint(before):
                outcome.changed_board = True
                outcome.correct = False
                outcome.write_problems = ["changed the board while answering a read question"]
                restart_board()
            log.info(
                "peers.question",
                board=board_name,
                label=stack.label,
                id=question.id,
                correct=outcome.correct,
                seconds=round(outcome.latency_s, 2),
            )
            all_results[i].outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(stack.label, outcome)
    return all_results


async def _snapshot(url: str) -> Board:
    settings = KanboardSettings(url=url, secret=SecretStr(DEMO_TOKEN))
    return await snapshot(httpx.AsyncHTTPTransport(), settings)
