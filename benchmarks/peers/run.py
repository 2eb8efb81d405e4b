"""Ask every stack the same questions about one board, question by question, and score the answers.

Through `benchmarks.runner`, as every benchmark: each question is asked of every stack in turn, who
goes first alternating, so a busy CPU slows all of them alike. The truth comes from a
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
from pydantic import SecretStr

from benchmarks.kanboard_qa.board import Board, snapshot
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.scoring import DONT_KNOW, present
from benchmarks.runner import Attempt, Outcome, Results, Stack, outcome, take_turns
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN

__all__ = ["PeerOutcome", "ask_side_by_side", "failure_kind", "to_outcome"]


class PeerOutcome(Outcome):
    """An `Outcome` with what a comparison of stacks also needs."""

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
    return outcome(question, question.truth(board), attempt, PeerOutcome)


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

    async def ask(stack: Stack, question: Question) -> PeerOutcome:
        before = await _snapshot(board_url())
        done = to_outcome(question, before, await stack.run(question.text))
        if _fingerprint(await _snapshot(board_url())) != _fingerprint(before):
            done.changed_board = True
            done.correct = False
            done.write_problems = ["changed the board while answering a read question"]
            restart_board()
        return done

    outcomes = await take_turns(
        stacks, questions, ask, on_outcome=on_outcome, event="peers.question", board=board_name
    )
    return [
        Results(
            label=s.label,
            board=board_name,
            config=config.get(s.label, {}),
            started_at=started,
            outcomes=list[Outcome](mine),
        )
        for s, mine in zip(stacks, outcomes, strict=True)
    ]


async def _snapshot(url: str) -> Board:
    settings = KanboardSettings(url=url, secret=SecretStr(DEMO_TOKEN))
    return await snapshot(httpx.AsyncHTTPTransport(), settings)
