"""The peer comparison's table: failures by kind, our median over each stack's, the 3x verdict."""

from __future__ import annotations

import pytest

from benchmarks.peers.run import PeerOutcome, failure_kind
from benchmarks.peers.table import comparison, failures, verdict
from benchmarks.runner import Results


def _outcome(
    id: str, seconds: float, *, correct: bool = True, answer: str = "ok", error: str | None = None
) -> PeerOutcome:
    return PeerOutcome(
        id=id, category="lookup", question="?", answer=answer, correct=correct, error=error, latency_s=seconds
    )


def _results(label: str, *seconds: float, board: str = "homelab", wrong: int = 0) -> Results:
    outcomes = [_outcome(f"q{i}", s, correct=i >= wrong, answer="a task") for i, s in enumerate(seconds)]
    return Results(label=label, board=board, outcomes=list(outcomes))


def test_a_failure_is_the_runs_error_type_else_dont_know_else_wrong() -> None:
    assert failure_kind(_outcome("a", 1)) is None
    assert failure_kind(
        _outcome("b", 1, correct=False, error="MaxTurnsExceeded: Max turns (8) exceeded")
    ) == ("MaxTurnsExceeded")
    assert failure_kind(_outcome("c", 1, correct=False, answer="I do not know.")) == "don't know"
    assert failure_kind(_outcome("d", 1, correct=False, answer="#3 Fix the roof")) == "wrong"
    assert failure_kind(_outcome("e", 1, correct=False, answer="  ")) == "empty answer"


def test_a_tool_call_the_server_did_not_parse_is_its_own_kind_of_failure() -> None:
    call = '{"name": "getOverdueTasks", "arguments": {"project_id": 123}}'
    assert failure_kind(_outcome("a", 1, correct=False, answer=call)) == "tool call as text"
    assert failure_kind(_outcome("b", 1, correct=False, answer=f"<tool_call>\n{call}\n</tool_call>")) == (
        "tool call as text"
    )
    fenced = '```json\n{ "name": "overdue_tasks", "arguments": { "project": "Homelab" } }\n```'
    assert failure_kind(_outcome("d", 1, correct=False, answer=fenced)) == "tool call as text"
    doubled = '{{"name": "get_task", "arguments": {"task": "ZFS disk replacement"}}}'
    assert failure_kind(_outcome("e", 1, correct=False, answer=doubled)) == "tool call as text"
    assert failure_kind(_outcome("c", 1, correct=False, answer='{"count": 3}')) == "wrong"


def test_failures_are_counted_by_kind_most_frequent_first() -> None:
    outcomes = [
        _outcome("a", 1, correct=False, answer="#1"),
        _outcome("b", 1, correct=False, error="BadRequestError: context"),
        _outcome("c", 1, correct=False, answer="#2"),
        _outcome("d", 1),
    ]
    assert failures(outcomes) == "wrong 2, BadRequestError 1"
    assert failures([_outcome("a", 1)]) == "none"


def test_the_table_divides_our_median_by_each_stacks_and_adds_a_row_per_stack_over_all_boards() -> None:
    runs = [
        _results("us", 2, 4, 6),
        _results("peer", 10, 20, 30, wrong=1),
        _results("us", 1, 3, board="household"),
        _results("peer", 4, 8, board="household"),
    ]
    table = comparison(runs, ours="us")
    rows = [line for line in table.splitlines() if line.startswith("| peer")]
    assert len(rows) == 3  # homelab, household, both
    assert rows[0].split("|")[4].strip() == "67%" and rows[0].split("|")[-3].strip() == "0.20"
    assert rows[1].split("|")[-3].strip() == "0.33"
    assert rows[2].split("|")[2].strip() == "homelab+household"


def test_the_verdict_needs_three_times_the_speed_and_no_less_accuracy() -> None:
    assert verdict(_results("us", 2, 3, 4), _results("peer", 9, 10, 11)).startswith("MET")
    assert verdict(_results("us", 4, 4, 4), _results("peer", 9, 10, 11)).startswith("NOT MET")
    assert verdict(_results("us", 1, 1, 1, wrong=2), _results("peer", 9, 10, 11, wrong=1)).startswith(
        "NOT MET"
    )
    with pytest.raises(ValueError, match="same questions"):
        verdict(_results("us", 1), _results("peer", 1, 2))
