"""The Docker question benchmark: questions about a sample homelab's compose stacks, alone and
together with Kanboard, scored against truth read from the engine at run time.

Run it with `python -m benchmarks.docker_qa` (see `__main__`). The pieces: `engine` snapshots the
engine, `questions` holds the questions and their truth, `runner` asks them through the shared
`benchmarks.runner`. Scoring is `benchmarks.kanboard_qa.scoring`.
"""

from benchmarks.docker_qa.engine import Engine, snapshot
from benchmarks.docker_qa.questions import CATEGORIES, QUESTIONS, Question, pick
from benchmarks.docker_qa.runner import run_questions
from benchmarks.runner import Outcome, Results

__all__ = [
    "CATEGORIES",
    "QUESTIONS",
    "Engine",
    "Outcome",
    "Question",
    "Results",
    "pick",
    "run_questions",
    "snapshot",
]
