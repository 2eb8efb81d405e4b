"""The Kanboard question benchmark: questions about the demo board, scored against computed truth.

Run it with `python -m benchmarks.kanboard_qa` (see `__main__`). The pieces: `board` snapshots the
board, `questions` holds the questions and their truth, `scoring` scores an answer, `runner` runs a
configuration (through the shared `benchmarks.runner`), `report` compares configurations.
"""

from benchmarks.kanboard_qa.board import Board, snapshot
from benchmarks.kanboard_qa.questions import QUESTIONS, SMOKE, Question, pick
from benchmarks.kanboard_qa.report import Summary, markdown, summarise, write_report
from benchmarks.kanboard_qa.runner import run_questions
from benchmarks.kanboard_qa.scoring import Fact, Score, Truth, score_answer
from benchmarks.runner import Outcome, Results

__all__ = [
    "QUESTIONS",
    "SMOKE",
    "Board",
    "Fact",
    "Outcome",
    "Question",
    "Results",
    "Score",
    "Summary",
    "Truth",
    "markdown",
    "pick",
    "run_questions",
    "score_answer",
    "snapshot",
    "summarise",
    "write_report",
]
