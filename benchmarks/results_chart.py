"""The README's accuracy x latency chart, from the measured table in benchmarks/kanboard_qa/RESULTS.md.

The benchmark's report draws the same chart from result files (`python -m benchmarks.kanboard_qa
report results/*.json --out docs/img --name kanboard-qa`); the result files of the published runs
are not kept in the repository, so this script redraws it from the first table of RESULTS.md (the
current code's runs) with the report's own `plot_rows`. Run it after updating that table:

    .venv/bin/python benchmarks/results_chart.py            # writes docs/img/kanboard-qa.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.kanboard_qa.report import Summary, plot_rows  # noqa: E402

RESULTS = ROOT / "benchmarks" / "kanboard_qa" / "RESULTS.md"
CHART = ROOT / "docs" / "img" / "kanboard-qa.png"


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if cell in ("", "-"):
        return None
    return float(cell.rstrip("%")) / (100 if cell.endswith("%") else 1)


def first_table(text: str) -> list[Summary]:
    """The rows of the first results table in `text` (the one headed "| configuration | n | accuracy")."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| configuration | n | accuracy"))
    header = [h.strip() for h in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))

        def num(key: str, cells: dict[str, str] = cells) -> float:
            return _number(cells.get(key, "")) or 0.0

        rows.append(
            Summary(
                label=cells["configuration"],
                board=cells.get("board") or "homelab",  # tables from before the household board have none
                n=int(num("n")),
                accuracy=num("accuracy"),
                valid_calls=num("valid calls"),
                errors=int(num("errors")),
                median_s=num("median s"),
                p90_s=num("p90 s"),
                prefill_s=num("prefill s"),
                decode_s=num("decode s"),
                tool_s=num("tool s"),
                steps=num("steps"),
                tokens_in=num("prompt tok"),
                cached_share=num("cached"),
                small_share=_number(cells.get("small share", "")),
                escalations=None if _number(cells.get("escalated", "")) is None else int(num("escalated")),
                by_category={},
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=CHART)
    args = parser.parse_args()
    rows = first_table(args.results.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_rows(rows, args.out)
    for row in rows:
        print(f"{row.label}: accuracy {row.accuracy:.0%}, median {row.median_s:.1f}s, p90 {row.p90_s:.1f}s")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
