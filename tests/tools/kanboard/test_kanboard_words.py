"""Turning what people type into what Kanboard wants: due dates, close matches, misses."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tools.kanboard.errors import KanboardNotFoundError
from tools.kanboard.words import close_matches, miss, pick, same_words
from tools.kanboard.writes import parse_due

NOW = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("2026-12-24", "2026-12-24 23:59"),
        ("2026-12-24 09:15", "2026-12-24 09:15"),
        ("2026-12-24T09:15", "2026-12-24 09:15"),
        ("none", ""),
    ],
)
def test_due_dates_are_sent_as_kanboard_wants_them(typed: str, sent: str) -> None:
    assert parse_due(typed, ZoneInfo("UTC"), NOW) == sent


def test_today_and_tomorrow_are_in_kanboards_timezone() -> None:
    assert parse_due("today", ZoneInfo("Asia/Tokyo"), NOW) == "2026-11-22 23:59"
    assert parse_due("tomorrow", ZoneInfo("UTC"), NOW) == "2026-11-22 23:59"


def test_an_unreadable_date_says_how_to_write_it() -> None:
    with pytest.raises(KanboardNotFoundError, match="YYYY-MM-DD"):
        parse_due("next friday", ZoneInfo("UTC"), NOW)


def test_pick_prefers_an_exact_name_then_a_unique_part() -> None:
    options = {"Homelab": 1, "Homelab Archive": 2, "Q4 Planning": 3}
    assert pick("project", "HOMELAB", options) == 1
    assert pick("project", "q4", options) == 3
    with pytest.raises(KanboardNotFoundError, match="Did you mean: Homelab"):
        pick("project", "Homelba", options)


def test_close_matches_ignore_case() -> None:
    assert close_matches("alise", ["alice", "Alice Chen", "bob"]) == ["alice"]


def test_close_matches_also_rank_names_that_share_most_words() -> None:
    names = [
        "Expand ZFS pool with a second mirror vdev",
        "Replace failing disk in ZFS pool 'tank'",
        "Design a logo",
    ]
    assert close_matches("ZFS disk replacement", names)[0] == "Replace failing disk in ZFS pool 'tank'"
    assert same_words("the logo", names) == ["Design a logo"]


def test_a_miss_among_many_names_lists_none_of_them_and_among_few_lists_them_all() -> None:
    many = str(miss("task", "Gustavo", [f"Add thing number {i}" for i in range(1034)]))
    assert many == 'No task "Gustavo". None of the 1034 tasks is called that.'
    assert str(miss("person", "Frank", ["Bob Martinez", "Alice Chen"])).endswith(
        "Known persons: Alice Chen, Bob Martinez."
    )
