"""The README's chart is drawn from a published results table by the report's own plotting."""

from __future__ import annotations

from pathlib import Path

from benchmarks.kanboard_qa.report import plot_rows
from benchmarks.results_chart import first_table

HEADER = (
    "| configuration | n | accuracy | valid calls | median s | p90 s | prefill s | decode s | tool s "
    "| steps | prompt tok | cached | small share | escalated | errors |"
)
TABLE = "\n".join(
    [
        "intro",
        "",
        HEADER,
        "|---|",
        "| large | 42 | 36% | 100% | 8.7 | 17.7 | 3.7 | 3.0 | 0.00 | 2.1 | 1831 | 85% | - | - | 0 |",
        "| router | 42 | 43% | 100% | 12.2 | 26.8 | 8.3 | 3.5 | 0.01 | 2.7 | 1684 | 65% | 33% | 26 | 2 |",
        "",
        "after",
    ]
)


def test_the_first_results_table_becomes_one_point_per_configuration(tmp_path: Path) -> None:
    rows = first_table(TABLE)
    assert [(r.label, r.accuracy, r.median_s, r.p90_s) for r in rows] == [
        ("large", 0.36, 8.7, 17.7),
        ("router", 0.43, 12.2, 26.8),
    ]
    assert rows[1].small_share == 0.33 and rows[1].escalations == 26 and rows[0].escalations is None
    assert {r.board for r in rows} == {"homelab"}
    plot_rows(rows, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_the_readme_shows_the_chart_the_script_writes() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "](docs/img/kanboard-qa.png)" in (root / "README.md").read_text()
    assert (root / "docs" / "img" / "kanboard-qa.png").read_bytes()[:4] == b"\x89PNG"
