"""The boards the benchmark asks about: each a demo-board seed and the questions about it.

`homelab` is the board the tools were developed on (`tools/kanboard_demo/seed.json`, questions in
`questions`); `household` is held out (`household`): written before the tuning started and never
used to tune; `big` is a company's board at the size people have (`bigboard`: 1,000+ tasks, 14
projects, 28 people), generated from a seed, its questions written before any tuning against it.
Those three are the reported boards, and "all" means them. `dev`, a makerspace (`dev`), is for
tuning the agent only: it runs when named (`--board dev`), never with "all", and its numbers are
never reported as accuracy. This module pairs data with questions, and picks the ones a run asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.kanboard_qa import bigboard, dev, household
from benchmarks.kanboard_qa.questions import QUESTIONS, Question, pick
from tools.kanboard_demo import DemoBoard, demo_transport, load_seed

__all__ = ["SUITES", "Suite", "check_ids", "chosen", "suites"]


@dataclass(frozen=True)
class Suite:
    """One board and the questions asked about it."""

    name: str
    seed: Callable[[], dict[str, Any]]
    questions: Sequence[Question]
    held_out: bool = False  # never used to tune tools, prompts or the loop
    tuning_only: bool = False  # only for tuning: not in "all", its numbers never reported

    def transport(self) -> httpx.ASGITransport:
        """A fresh copy of the board, served in-process."""
        return demo_transport(DemoBoard(self.seed()))


SUITES: dict[str, Suite] = {
    "homelab": Suite("homelab", load_seed, QUESTIONS),
    "household": Suite("household", household.seed, household.QUESTIONS, held_out=True),
    "big": Suite("big", bigboard.seed, bigboard.QUESTIONS, held_out=True),
    "dev": Suite("dev", dev.seed, dev.QUESTIONS, tuning_only=True),
}


def suites(names: str) -> list[Suite]:
    """The suites named in a comma-separated list ("all" for every reported one: not `dev`)."""
    if names.strip() == "all":
        return [s for s in SUITES.values() if not s.tuning_only]
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SUITES]
    if unknown:
        raise KeyError(f"unknown boards: {', '.join(unknown)} (known: {', '.join(SUITES)})")
    return [SUITES[n] for n in wanted]


def chosen(
    suite: Suite, *, ids: Sequence[str] = (), subset: int | None = None, writes: bool = False
) -> list[Question]:
    """The questions of `suite` a run asks: those of `ids` that are on this board (none when it has
    none of them), else `subset` spread over the categories; write requests only with `writes`."""
    if not ids:
        return pick(suite.questions, subset=subset, writes=writes)
    here = {q.id for q in suite.questions if writes or not q.writes}
    mine = [i for i in ids if i in here]
    return pick(suite.questions, ids=mine, writes=writes) if mine else []


def check_ids(ids: Sequence[str], *, writes: bool) -> None:
    """Exit naming the ids no board has (among its read questions, unless `writes`)."""
    known = {q.id for suite in SUITES.values() for q in suite.questions if writes or not q.writes}
    unknown = set(ids) - known
    if unknown:
        kind = "question" if writes else "read question"
        raise SystemExit(f"unknown {kind} ids: {', '.join(sorted(unknown))}")
