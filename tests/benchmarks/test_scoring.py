"""Scoring answers: facts in any spelling, forbidden facts, and tool-call validity."""

from __future__ import annotations

from datetime import date

from agent.messages import Usage
from agent.trace import RunResult, Step, ToolCallRecord
from benchmarks.kanboard_qa.scoring import (
    DONT_KNOW,
    Fact,
    Truth,
    date_fact,
    invalid_calls,
    number_fact,
    percentile,
    present,
    score_answer,
)


def test_facts_match_whatever_the_case_punctuation_and_markdown() -> None:
    fact = Fact.of("Replace failing disk in ZFS pool 'tank'")
    assert present(fact, "1. **Replace failing disk in ZFS pool `tank`** (due Nov 19)")
    assert present(fact, "replace failing disk in zfs pool tank")
    assert not present(fact, "Replace failing disk")


def test_facts_match_whole_words_only() -> None:
    assert not present(Fact.of("#1"), "see task #12")
    assert present(Fact.of("#1"), "see task #1, it is late")
    assert not present(number_fact(4), "There are 14 tasks")


def test_dates_match_in_the_formats_models_write() -> None:
    fact = date_fact(date(2026, 11, 22), today=date(2026, 11, 21))
    for answer in [
        "due 2026-11-22",
        "due Nov 22",
        "due November 22, 2026",
        "due 22 November",
        "due 11/22/2026",
        "due 22.11.2026",
        "due tomorrow at noon",
    ]:
        assert present(fact, answer), answer
    assert not present(fact, "due 2026-11-23")


def test_numbers_match_as_digits_or_words() -> None:
    assert present(number_fact(7), "Seven open tasks.")
    assert present(number_fact(7), "There are 7.")
    assert present(number_fact(0), "None of them are overdue.")


def test_an_answer_is_correct_with_every_required_fact_and_no_forbidden_one() -> None:
    truth = Truth(required=[Fact.of("Alice"), Fact.of("Dave")], forbidden=[Fact.of("Bob")])
    assert score_answer("Alice and Dave.", truth).correct
    assert not score_answer("Alice.", truth).correct
    wrong = score_answer("Alice, Dave and Bob.", truth)
    assert not wrong.correct and wrong.forbidden_found == ["Bob"]


def test_saying_it_does_not_know_is_recognised_in_many_phrasings() -> None:
    for answer in [
        "I don't know.",
        "There is no user named Frank.",
        "I couldn't find such a task.",
        "No project called Mars Colony exists on the board — I cannot find it.",
    ]:
        assert present(DONT_KNOW, answer), answer
    assert not present(DONT_KNOW, "Frank is working on the DNS migration.")


def test_unreadable_output_and_bad_tool_calls_make_the_calls_invalid() -> None:
    def run(step: Step) -> RunResult:
        return RunResult(answer="x", steps=[step], usage=Usage(), duration_s=1.0)

    ok = Step(
        index=1,
        model="m",
        model_s=1.0,
        usage=Usage(),
        tool_calls=[
            ToolCallRecord(
                id="1", name="kb__get_task", arguments={}, result="Error: no task #99", is_error=True
            )
        ],
    )
    unknown = Step(
        index=1,
        model="m",
        model_s=1.0,
        usage=Usage(),
        tool_calls=[
            ToolCallRecord(
                id="1",
                name="kb__x",
                arguments={},
                result="Error: there is no tool named 'kb__x'",
                is_error=True,
            )
        ],
    )
    garbled = Step(index=1, model="m", model_s=1.0, usage=Usage(), parse_error="not JSON")
    assert invalid_calls(run(ok)) == []  # a tool saying "not found" is the board's answer, not a bad call
    assert len(invalid_calls(run(unknown))) == 1
    assert len(invalid_calls(run(garbled))) == 1


def test_percentiles_interpolate_between_values() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0], 90) == 1.9
    assert percentile([], 90) == 0.0


def test_a_spelling_two_tasks_share_names_neither_of_them() -> None:
    from benchmarks.kanboard_qa.questions import only
    from tools.kanboard.models import Task

    asked = Task(id=1, title="Call back about the refund request from Globex")
    other = Task(id=2, title="Call back about the export failure from Umbrella")
    truth = only([asked], [other])
    answer = "#1 Call back about the refund request from Globex"
    assert score_answer(answer, truth).correct
    assert not score_answer(answer + ", #2 Call back about the export failure from Umbrella", truth).correct
    assert not score_answer("Call back about the export failure", truth).correct  # no longer a match for #1
