"""The boards the benchmark asks about: each a demo-board seed and the questions about it.

`homelab` is the board the tools were developed on (`tools/kanboard_demo/seed.json`, questions in
`questions`); `household` is held out (`household`): written before the tuning started and never
used to tune; `big` is a company's board at the size people have (`bigboard`: 1,000+ tasks, 14
projects, 28 people), generated from a seed, its questions written before any tuning against it.
This module only pairs data with questions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.kanboard_qa import bigboard, household
from benchmarks.kanboard_qa.questions import QUESTIONS, Question
from tools.kanboard_demo import DemoBoard, demo_transport, load_seed

__all__ = ["SUITES", "Suite", "suites"]


@dataclass(frozen=True)
class Suite:
    """One board and the questions asked about it."""

    name: str
    seed: Callable[[], dict[str, Any]]
    questions: Sequence[Question]
    held_out: bool = False  # never used to tune tools, prompts or the loop

    def transport(self) -> httpx.ASGITransport:
        """A fresh copy of the board, served in-process."""
        return demo_transport(DemoBoard(self.seed()))


SUITES: dict[str, Suite] = {
    "homelab": Suite("homelab", load_seed, QUESTIONS),
    "household": Suite("household", household.seed, household.QUESTIONS, held_out=True),
    "big": Suite("big", bigboard.seed, bigboard.QUESTIONS, held_out=True),
}


def suites(names: str) -> list[Suite]:
    """The suites named in a comma-separated list ("all" for every one)."""
    wanted = list(SUITES) if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SUITES]
    if unknown:
        raise KeyError(f"unknown boards: {', '.join(unknown)} (known: {', '.join(SUITES)})")
    return [SUITES[n] for n in wanted]
