"""The comparison table of a peer run: one row per stack and board, and the speed target's verdict.

Accuracy, median and p90 latency, prompt tokens and steps per question, failures by kind, and the
ratio of our median to each stack's (below 1: we are faster). The numbers come from
`kanboard_qa.report.summarise`, so they mean what they mean in every other report. Nothing here
runs anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from benchmarks.kanboard_qa.report import summarise
from benchmarks.kanboard_qa.runner import Outcome, Results
from benchmarks.peers.run import PeerOutcome, failure_kind

__all__ = ["comparison", "failures", "verdict"]


def failures(outcomes: Sequence[Outcome]) -> str:
    """Failed questions by kind, most frequent first: "wrong 5, MaxTurnsExceeded 2"."""
    kinds = Counter(k for o in outcomes if (k := failure_kind(o)) is not None)
    return ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) or "none"


def _combined(runs: Sequence[Results], label: str) -> Results:
    """One stack's runs over every board, as one."""
    mine = [r for r in runs if r.label == label]
    return Results(
        label=label, board="+".join(r.board for r in mine), outcomes=[o for r in mine for o in r.outcomes]
    )


def _row(results: Results, ours: Results | None, ours_cold: Results | None) -> str:
    s = summarise(results)
    tool_errors = sum(bool(o.tool_errors) for o in results.outcomes if isinstance(o, PeerOutcome))
    writes = sum(o.changed_board for o in results.outcomes if isinstance(o, PeerOutcome))

    def ratio(other: Results | None) -> str:
        if other is None or not s.median_s:
            return "-"
        return f"{summarise(other).median_s / s.median_s:.2f}"

    return (
        f"| {s.label} | {s.board} | {s.n} | {s.accuracy:.0%} | {s.median_s:.1f} | {s.p90_s:.1f} "
        f"| {s.tokens_in:,.0f} | {s.cached_share:.0%} | {s.steps:.1f} | {failures(results.outcomes)} "
        f"| {tool_errors} | {writes} | {ratio(ours)} | {ratio(ours_cold)} |"
    )


def comparison(runs: Sequence[Results], *, ours: str, ours_cold: str | None = None) -> str:
    """The markdown table: every stack on every board, then every stack over all boards.

    `ours` and `ours_cold` are the labels of our warm and cold runs; the last two columns divide
    their median by the row's.
    """
    header = [
        "| stack | board | n | accuracy | median s | p90 s | prompt tok/q | cached | steps/q "
        "| failures by kind | q with tool errors | q that wrote | ours ÷ this (median) | ours cold ÷ this |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    labels = list(dict.fromkeys(r.label for r in runs))
    boards = list(dict.fromkeys(r.board for r in runs))
    lines = list(header)
    for board in boards:
        here = {r.label: r for r in runs if r.board == board}
        for label in labels:
            if label in here:
                lines.append(_row(here[label], here.get(ours), here.get(ours_cold or "")))
    if len(boards) > 1:
        every = {label: _combined(runs, label) for label in labels}
        for label in labels:
            lines.append(_row(every[label], every.get(ours), every.get(ours_cold or "")))
    return "\n".join(lines) + "\n"


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
