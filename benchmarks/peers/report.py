"""The files a peer run leaves: NAME.md (the table, the verdicts, the findings, the versions, every
wrong answer) and NAME.json (the same numbers and findings, for tools), beside the per-stack result
files `__main__` writes. This module renders; it runs nothing and measures nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.kanboard_qa.report import markdown as details
from benchmarks.peers.findings import Finding, as_json, run_errors
from benchmarks.peers.findings import markdown as findings_markdown
from benchmarks.peers.table import comparison, rows, verdict
from benchmarks.runner import Results

__all__ = ["verdicts", "write"]

TARGET = "at least 3x faster than peer A at equal or better accuracy"


def verdicts(runs: Sequence[Results], *, ours: str, peers: Sequence[str]) -> list[str]:
    """Per board, whether our warm run meets the speed target against each of `peers` (labels)."""
    found = []
    for board in dict.fromkeys(r.board for r in runs):
        here = {r.label: r for r in runs if r.board == board}
        found += [f"{board}: {verdict(here[ours], here[p])}" for p in peers if ours in here and p in here]
    return found


def write(
    out: Path,
    name: str,
    *,
    command: str,
    runs: Sequence[Results],
    findings: Sequence[Finding],
    warm_ups: Sequence[dict[str, object]] = (),
    versions: dict[str, str],
    ours: str,
    ours_cold: str | None,
    peers: Sequence[str],
) -> tuple[Path, Path]:
    """Write NAME.md and NAME.json into `out`; return their paths."""
    said = verdicts(runs, ours=ours, peers=peers)
    errors = run_errors(runs)
    lines = [
        "# homelab-agent side by side with its peers (issue 16)",
        "",
        f"    {command}",
        "",
        comparison(runs, ours=ours, ours_cold=ours_cold),
        f"## Target: {TARGET}",
        "",
        *[f"- {line}" for line in said or ["(no run of ours beside a peer)"]],
        "",
        "## Findings: what failed before or outside the questions",
        "",
        findings_markdown(list(findings)),
        "## Errors that ended questions",
        "",
        findings_markdown(errors),
        "## Warm-up: each stack's unscored first question after it started (not in the table)",
        "",
        *[
            f"- {w['stack']} on {w['board']}: {w['seconds']} s, {w['prompt_tokens']:,} prompt tokens, "
            f"{w['steps']} steps"
            for w in warm_ups
        ],
        "" if warm_ups else "None (--no-warm-up).\n",
        "## Versions",
        "",
        *[f"- {k}: {v}" for k, v in versions.items()],
        "",
        details(runs).replace("# Kanboard question benchmark", "# Details", 1),
    ]
    md = out / f"{name}.md"
    md.write_text("\n".join(lines))
    data = {
        "command": command,
        "target": TARGET,
        "rows": [r.model_dump() for r in rows(runs, ours=ours, ours_cold=ours_cold)],
        "verdicts": said,
        "findings": as_json(list(findings)),
        "run_errors": as_json(errors),
        "warm_ups": list(warm_ups),
        "versions": versions,
    }
    js = out / f"{name}.json"
    js.write_text(json.dumps(data, indent=1) + "\n")
    return md, js
