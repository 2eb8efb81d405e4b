"""The comparison table of a peer run: one row per stack and board, and the speed target's verdict.

Accuracy, median and p90 latency, prompt tokens and steps per question, failures by kind, and the
ratio of our median to each stack's (below 1: we are faster). The numbers come from
`kanboard_qa.report.summarise`, so they mean what they mean in every other report. Nothing here
runs anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from benchmarks.kanboard_qa.report import summarise
from benchmarks.peers.run import PeerOutcome, failure_kind
from benchmarks.runner import Outcome, Results

__all__ = ["Row", "comparison", "failure_counts", "failures", "rows", "verdict"]


def failure_counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Failed questions by kind, most frequent first: {"wrong": 5, "MaxTurnsExceeded": 2}."""
    return dict(Counter(k for o in outcomes if (k := failure_kind(o)) is not None).most_common())


def failures(outcomes: Sequence[Outcome]) -> str:
    """Failed questions by kind, most frequent first: "wrong 5, MaxTurnsExceeded 2"."""
    return ", ".join(f"{kind} {n}" for kind, n in failure_counts(outcomes).items()) or "none"


def _combined(runs: Sequence[Results], label: str) -> Results:
    """One stack's runs over every board, as one."""
    mine = [r for r in runs if r.label == label]
    return Results(
        label=label, board="+".join(r.board for r in mine), outcomes=[o for r in mine for o in r.outcomes]
    )


class Row(BaseModel):
    """One stack on one board (or all of them): a line of the table, and of the JSON report."""

    stack: str
    board: str
    n: int
    accuracy: float
    median_s: float
    p90_s: float
    prompt_tokens: float  # mean prompt tokens per question, cached included
    cached_share: float
    steps: float  # mean model turns per question
    failures: dict[str, int]  # failed questions by kind, most frequent first
    with_tool_errors: int  # questions where a tool call failed
    wrote: int  # questions where the stack changed the board
    ours_over_this: float | None  # our warm median / this median: below 1, we are faster
    ours_cold_over_this: float | None


def _row(results: Results, ours: Results | None, ours_cold: Results | None) -> Row:
    s = summarise(results)
    peer = [o for o in results.outcomes if isinstance(o, PeerOutcome)]

    def ratio(other: Results | None) -> float | None:
        return summarise(other).median_s / s.median_s if other is not None and s.median_s else None

    return Row(
        stack=s.label,
        board=s.board,
        n=s.n,
        accuracy=s.accuracy,
        median_s=s.median_s,
        p90_s=s.p90_s,
        prompt_tokens=s.tokens_in,
        cached_share=s.cached_share,
        steps=s.steps,
        failures=failure_counts(results.outcomes),
        with_tool_errors=sum(bool(o.tool_errors) for o in peer),
        wrote=sum(o.changed_board for o in peer),
        ours_over_this=ratio(ours),
        ours_cold_over_this=ratio(ours_cold),
    )


def rows(runs: Sequence[Results], *, ours: str, ours_cold: str | None = None) -> list[Row]:
    """Every stack on every board, then (with more than one board) every stack over all boards.

    `ours` and `ours_cold` are the labels of our warm and cold runs; each row divides their median
    by its own.
    """
    labels = list(dict.fromkeys(r.label for r in runs))
    boards = list(dict.fromkeys(r.board for r in runs))
    found: list[Row] = []
    for board in boards:
        here = {r.label: r for r in runs if r.board == board}
        found += [
            _row(here[label], here.get(ours), here.get(ours_cold or "")) for label in labels if label in here
        ]
    if len(boards) > 1:
        every = {label: _combined(runs, label) for label in labels}
        found += [_row(every[label], every.get(ours), every.get(ours_cold or "")) for label in labels]
    return found


def comparison(runs: Sequence[Results], *, ours: str, ours_cold: str | None = None) -> str:
    """The markdown table of `rows`."""
    lines = [
        "| stack | board | n | accuracy | median s | p90 s | prompt tok/q | cached | steps/q "
        "| failures by kind | q with tool errors | q that wrote | ours ÷ this (median) | ours cold ÷ this |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows(runs, ours=ours, ours_cold=ours_cold):
        kinds = ", ".join(f"{kind} {n}" for kind, n in r.failures.items()) or "none"
        lines.append(
            f"| {r.stack} | {r.board} | {r.n} | {r.accuracy:.0%} | {r.median_s:.1f} | {r.p90_s:.1f} "
            f"| {r.prompt_tokens:,.0f} | {r.cached_share:.0%} | {r.steps:.1f} | {kinds} "
            f"| {r.with_tool_errors} | {r.wrote} "
            f"| {_ratio(r.ours_over_this)} | {_ratio(r.ours_cold_over_this)} |"
        )
    return "\n".join(lines) + "\n"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def verdict(ours: Results, peer: Results, *, speedup: float = 3.0) -> str:
    """Whether `ours` is at least `speedup` times faster than `peer` (medians) at equal or better accuracy."""
    if [o.id for o in ours.outcomes] != [o.id for o in peer.outcomes]:
        raise ValueError("the two runs did not ask the same questions")
    a, b = summarise(ours), summarise(peer)
    faster = b.median_s / a.median_s if a.median_s else float("inf")
    met = faster >= speedup and a.accuracy >= b.accuracy
    return (
        f"{'MET' if met else 'NOT MET'}: {a.label} median {a.median_s:.1f} s vs {b.label} {b.median_s:.1f} s "
        f"= {faster:.2f}x faster (target >= {speedup:g}x); accuracy {a.accuracy:.0%} vs {b.accuracy:.0%} "
        f"over {a.n} questions"
    )
