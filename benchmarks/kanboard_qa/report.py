"""Tables and a plot from one or more result files, so configurations compare side by side.

`summarise` turns a `Results` into one row of numbers; `markdown` renders rows (and per-category
accuracy, and every wrong answer) as a report; `plot` draws accuracy against median latency per
configuration (matplotlib, Agg backend). Nothing here runs a model.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from benchmarks.kanboard_qa.questions import CATEGORIES
from benchmarks.kanboard_qa.scoring import percentile
from benchmarks.kanboard_qa.suites import SUITES
from benchmarks.runner import Outcome, Results

__all__ = ["Summary", "load", "markdown", "plot", "plot_rows", "router_verdict", "summarise", "write_report"]


class Summary(BaseModel):
    """One configuration in numbers."""

    label: str
    board: str
    n: int
    accuracy: float
    valid_calls: float  # share of questions with no unreadable output and no invalid tool call
    errors: int  # runs that ended in an error (step limit, model failure)
    median_s: float
    p90_s: float
    first_token_s: float = 0.0  # median, until the answer's first text
    tokens_out: float = 0.0  # mean tokens the model wrote per question
    reused: str = "-"  # answers written from a tool's list: "direct / lead" counts
    prefill_s: float  # medians per question
    decode_s: float
    tool_s: float
    steps: float  # mean model turns per question
    tokens_in: float  # mean prompt tokens per question (cached included)
    cached_share: float  # cached prompt tokens / prompt tokens, over all questions
    small_share: float | None  # router runs: share of steps the small model answered
    escalations: int | None  # router runs: questions where the small model was replaced
    by_category: dict[str, float]


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarise(results: Results) -> Summary:
    """The numbers of one run."""
    out = results.outcomes
    n = len(out) or 1
    routes = [r for o in out for r in o.routes]
    tokens_in = sum(o.input_tokens for o in out)
    categories = {
        c: sum(o.correct for o in out if o.category == c) / len([o for o in out if o.category == c])
        for c in CATEGORIES
        if any(o.category == c for o in out)
    }
    return Summary(
        label=results.label,
        board=results.board,
        n=len(out),
        accuracy=sum(o.correct for o in out) / n,
        valid_calls=sum(o.valid_calls for o in out) / n,
        errors=sum(o.error is not None for o in out),
        median_s=_median([o.latency_s for o in out]),
        p90_s=percentile([o.latency_s for o in out], 90),
        first_token_s=_median([o.first_token_s for o in out if o.first_token_s is not None]),
        tokens_out=sum(o.output_tokens for o in out) / n,
        reused=f"{sum(o.answer_kind == 'direct' for o in out)} / {sum(o.answer_kind == 'lead' for o in out)}",
        prefill_s=_median([o.prefill_s for o in out]),
        decode_s=_median([o.decode_s for o in out]),
        tool_s=_median([o.tool_s for o in out]),
        steps=sum(o.steps for o in out) / n,
        tokens_in=tokens_in / n,
        cached_share=sum(o.cached_tokens for o in out) / tokens_in if tokens_in else 0.0,
        small_share=(sum(r.choice == "small" for r in routes) / len(routes)) if routes else None,
        escalations=sum(any(r.escalated for r in o.routes) for o in out) if routes else None,
        by_category=categories,
    )


def load(path: Path) -> Results:
    """A results file written by a run, or the `.partial.jsonl` a run cut short left behind."""
    if path.name.endswith(".partial.jsonl"):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        stem = path.name.removesuffix(".partial.jsonl")
        board = next((name for name in SUITES if stem.endswith(f"-{name}")), "homelab")
        label = stem.removesuffix(f"-{board}") + " (partial)"
        outcomes = [Outcome.model_validate_json(line) for line in lines]
        return Results(label=label, board=board, outcomes=outcomes)
    return Results.model_validate_json(path.read_text())


def markdown(all_results: Sequence[Results]) -> str:
    """A markdown report: the configurations side by side, accuracy per category, and the misses."""
    rows = [summarise(r) for r in all_results]
    lines = [
        "# Kanboard question benchmark",
        "",
        "| configuration | board | n | accuracy | valid calls | median s | p90 s | first token s "
        "| prefill s | decode s | tool s | steps | prompt tok | cached | out tok | direct / lead "
        "| small share | escalated | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        small = f"{s.small_share:.0%}" if s.small_share is not None else "-"
        escalated = str(s.escalations) if s.escalations is not None else "-"
        lines.append(
            f"| {s.label} | {s.board} | {s.n} | {s.accuracy:.0%} | {s.valid_calls:.0%} | {s.median_s:.1f} "
            f"| {s.p90_s:.1f} | {s.first_token_s:.1f} | {s.prefill_s:.1f} | {s.decode_s:.1f} "
            f"| {s.tool_s:.2f} | {s.steps:.1f} | {s.tokens_in:.0f} | {s.cached_share:.0%} "
            f"| {s.tokens_out:.0f} | {s.reused} | {small} | {escalated} | {s.errors} |"
        )
    lines += [
        "",
        "Latency columns are per question: median and 90th percentile of the total; prefill, decode "
        "and tool time are medians.",
        "",
        "## Accuracy per category",
        "",
    ]
    present = [c for c in CATEGORIES if any(c in s.by_category for s in rows)]
    lines.append("| configuration | board | " + " | ".join(present) + " |")
    lines.append("|---|---|" + "---:|" * len(present))
    for s in rows:
        cells = [f"{s.by_category[c]:.0%}" if c in s.by_category else "-" for c in present]
        lines.append(f"| {s.label} | {s.board} | " + " | ".join(cells) + " |")
    for results in all_results:
        wrong = [o for o in results.outcomes if not o.correct]
        if not wrong:
            continue
        lines += ["", f"## Wrong answers: {results.label} [{results.board}]", ""]
        for o in wrong:
            why = "; ".join(
                filter(
                    None,
                    [
                        o.error or "",
                        f"missing {', '.join(o.missing)}" if o.missing else "",
                        f"should not say {', '.join(o.forbidden_found)}" if o.forbidden_found else "",
                        f"board: {', '.join(o.write_problems)}" if o.write_problems else "",
                    ],
                )
            )
            answer = " ".join(o.answer.split())
            answer = answer if len(answer) <= 200 else answer[:199] + "…"
            lines.append(
                f"- **{o.id}** ({o.latency_s:.1f}s, tools {', '.join(o.tools) or 'none'}): {why}. "
                f"Answer: {answer or '(none)'}"
            )
    return "\n".join(lines) + "\n"


def router_verdict(large: Results, router: Results, *, speedup: float = 2.0, points: float = 3.0) -> str:
    """Whether `router` meets its target against always-`large` on the same questions.

    The target (issue 6): a median latency at most 1/`speedup` of always-large, and an accuracy at
    most `points` percentage points below it. Raises ValueError when the runs asked different questions.
    """
    if [o.id for o in large.outcomes] != [o.id for o in router.outcomes]:
        raise ValueError("the two runs did not ask the same questions")
    a, b = summarise(large), summarise(router)
    ratio = b.median_s / a.median_s if a.median_s else float("inf")
    delta = (b.accuracy - a.accuracy) * 100
    met = ratio <= 1 / speedup and delta >= -points
    return (
        f"{'MET' if met else 'NOT MET'}: router median {b.median_s:.1f} s = {ratio:.2f} x always-large "
        f"{a.median_s:.1f} s (target <= {1 / speedup:.2f}); accuracy {b.accuracy:.0%} vs {a.accuracy:.0%} "
        f"({delta:+.1f} points, target >= -{points:g}) over {a.n} questions"
    )


def plot(all_results: Sequence[Results], path: Path) -> None:
    """Accuracy against median latency, one point per configuration, as a PNG."""
    plot_rows([summarise(r) for r in all_results], path)


def plot_rows(rows: Sequence[Summary], path: Path) -> None:
    """`plot` from summaries (e.g. the published table in RESULTS.md: benchmarks/results_chart.py)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for s in rows:
        ax.errorbar(
            s.median_s,
            s.accuracy * 100,
            xerr=[[0.0], [max(0.0, s.p90_s - s.median_s)]],
            fmt="o",
            capsize=3,
            label=f"{s.label} [{s.board}] ({s.accuracy:.0%}, {s.median_s:.1f}s)",
        )
    ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("median latency per question, s (bar: to p90)")
    ax.set_ylabel("accuracy, %")
    ax.set_ylim(0, 105)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.set_title("Kanboard questions: accuracy vs latency")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(all_results: Sequence[Results], out: Path, name: str = "report") -> tuple[Path, Path]:
    """Write `name`.md and `name`.png into `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    md, png = out / f"{name}.md", out / f"{name}.png"
    md.write_text(markdown(all_results))
    plot(all_results, png)
    return md, png
