"""The scale benchmark prints index build and refresh times and a row per read tool."""

from __future__ import annotations

import pytest

from benchmarks.kanboard_scale import CALLS, main
from tools.kanboard.reads import READS


def test_the_scale_benchmark_times_every_read_tool() -> None:
    assert set(CALLS) == {name for name, _ in READS}


def test_the_scale_benchmark_prints_build_refresh_and_a_row_per_tool(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--board", "household", "--repeat", "1", "--latency-ms", "0"]) == 0
    printed = capsys.readouterr().out
    assert "## household board" in printed and "refresh after 5 tasks changed" in printed
    assert all(f"| {tool} |" in printed for tool in CALLS)
