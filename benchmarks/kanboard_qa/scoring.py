"""Scoring an answer: required facts present, forbidden facts absent, tool calls well formed.

A `Fact` is a set of equivalent spellings ("2026-11-19", "Nov 19", "tomorrow"...); it is present
when any spelling occurs in the answer as whole words, after both are normalised the same way
(lower case, punctuation to spaces, apostrophes dropped, markdown gone). This module knows nothing
about Kanboard or models; `questions` builds the facts and `runner` collects the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel

from agent.trace import RunResult

__all__ = [
    "DONT_KNOW",
    "Fact",
    "Score",
    "Truth",
    "date_fact",
    "invalid_calls",
    "normalise",
    "number_fact",
    "percentile",
    "present",
    "score_answer",
]

_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty",
)  # fmt: skip
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, everything but letters, digits and '#' to single spaces."""
    text = text.lower().replace("'", "").replace("\u2019", "").replace("`", "")
    text = re.sub(r"[^a-z0-9#]+", " ", text)
    return f" {' '.join(text.split())} "


@dataclass(frozen=True)
class Fact:
    """One fact, in any of its spellings; `label` names it in reports."""

    spellings: tuple[str, ...]
    label: str = ""

    @classmethod
    def of(cls, *spellings: str, label: str = "") -> Fact:
        """A fact spelt any of these ways."""
        return cls(tuple(s for s in spellings if s), label or spellings[0])


@dataclass
class Truth:
    """What a correct answer must say and must not say."""

    required: list[Fact] = field(default_factory=list)
    forbidden: list[Fact] = field(default_factory=list)
    any_of: int | None = None  # when set, only this many of `required` need to be present


def present(fact: Fact, answer: str) -> bool:
    """Whether any spelling of `fact` appears in `answer` as whole words."""
    text = normalise(answer)
    for spelling in fact.spellings:
        needle = normalise(spelling).strip()
        if needle and re.search(r"(?<![a-z0-9#])" + re.escape(needle) + r"(?![a-z0-9])", text):
            return True
    return False


def number_fact(n: int, label: str = "") -> Fact:
    """A count, as digits or (up to twenty) as a word; zero is also "no" / "none"."""
    spellings = [str(n)]
    if 0 <= n < len(_NUMBER_WORDS):
        spellings.append(_NUMBER_WORDS[n])
    if n == 0:
        spellings += ["none", "no"]
    return Fact.of(*spellings, label=label or str(n))


def date_fact(day: date, today: date | None = None, label: str = "") -> Fact:
    """A day in the spellings models use: ISO, "Nov 19", "19 November", "11/19", and relative words."""
    month = _MONTHS[day.month - 1]
    spellings = [
        day.isoformat(),
        f"{month} {day.day}",
        f"{month[:3]} {day.day}",
        f"{day.day} {month}",
        f"{day.day} {month[:3]}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.month:02d}/{day.day:02d}",
        f"{day.month}/{day.day}",
    ]
    if today is not None:
        relative = {0: "today", 1: "tomorrow", -1: "yesterday"}.get((day - today).days)
        if relative:
            spellings.append(relative)
    return Fact.of(*spellings, label=label or day.isoformat())


DONT_KNOW = Fact.of(
    "dont know",
    "do not know",
    "not sure",
    "no such",
    "couldnt find",
    "could not find",
    "cant find",
    "cannot find",
    "unable to find",
    "not able to find",
    "did not find",
    "didnt find",
    "no task",
    "no tasks",
    "no project",
    "no user",
    "no person",
    "no one",
    "nobody",
    "not found",
    "doesnt exist",
    "does not exist",
    "no information",
    "do not have access",
    "dont have access",
    "do not have information",
    "dont have information",
    "do not have any information",
    "dont have any information",
    "no record",
    "there is no",
    "there are no",
    "isnt a",
    "is not a",
    "not in the",
    "not available",
    "no mention",
    "not mentioned",
    "unable to",
    "cannot answer",
    "cant answer",
    "not on the board",
    # "... is not listed in the provided information": refusals in the words small models use
    "not listed",
    "not specified",
    "not provided",
    "not stated",
    "not included",
    label="says it does not know",
)


class Score(BaseModel):
    """How one answer scored."""

    correct: bool  # all required facts present (or `any_of` of them), no forbidden fact present
    valid_calls: bool  # no unreadable output, no unknown tool, no invalid arguments
    missing: list[str]
    forbidden_found: list[str]
    invalid: list[str]


_INVALID_MARKERS = ("there is no tool named", "are invalid:", "is not enabled on server")


def invalid_calls(result: RunResult | None) -> list[str]:
    """Unreadable outputs and calls to unknown tools or with bad arguments, in a run."""
    if result is None:
        return []
    problems: list[str] = []
    for step in result.steps:
        if step.parse_error:
            problems.append(f"step {step.index}: unreadable output")
        for call in step.tool_calls:
            if call.is_error and any(m in call.result for m in _INVALID_MARKERS):
                problems.append(f"step {step.index}: {call.name}: {call.result[:120]}")
    return problems


def score_answer(answer: str, truth: Truth, result: RunResult | None = None) -> Score:
    """Score `answer` against `truth`, and the run's tool calls when `result` is given."""
    missing = [f.label for f in truth.required if not present(f, answer)]
    found = [f.label for f in truth.forbidden if present(f, answer)]
    needed = len(truth.required) if truth.any_of is None else min(truth.any_of, len(truth.required))
    have = len(truth.required) - len(missing)
    invalid = invalid_calls(result)
    return Score(
        correct=have >= needed and not found,
        valid_calls=not invalid,
        missing=missing,
        forbidden_found=found,
        invalid=invalid,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
