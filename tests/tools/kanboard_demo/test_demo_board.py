"""The demo board's own behaviour: relative dates, Kanboard's write quirks, its query language."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tools.kanboard_demo import DemoBoard, load_seed
from tools.kanboard_demo.procedures import dispatch
from tools.kanboard_demo.rpc import Caller, ForbiddenError, InvalidParamsError
from tools.kanboard_demo.search import parse_query

APP = Caller()
NOW = datetime(2027, 3, 10, 15, 30).timestamp()


@pytest.fixture
def board() -> DemoBoard:
    return DemoBoard(load_seed(), clock=lambda: NOW)


def test_seed_dates_are_relative_so_overdue_work_stays_overdue(board: DemoBoard) -> None:
    overdue = {row["id"] for row in dispatch(board, "getOverdueTasks", None, APP)}
    assert overdue == {1, 4, 6, 12, 13, 22, 23, 31, 34, 37}
    due = datetime.fromtimestamp(board.tasks[1]["date_due"], board.tz)
    assert (due.date().isoformat(), due.hour) == ("2027-03-08", 17)


def test_a_bare_date_keeps_the_current_time_of_day_like_php(board: DemoBoard) -> None:
    task_id = dispatch(
        board, "createTask", {"title": "probe", "project_id": 1, "date_due": "2027-03-12"}, APP
    )
    due = datetime.fromtimestamp(board.tasks[task_id]["date_due"], board.tz)
    assert (due.hour, due.minute) == (15, 30)


def test_unix_timestamps_and_late_starts_are_refused_on_write(board: DemoBoard) -> None:
    assert (
        dispatch(board, "createTask", {"title": "x", "project_id": 1, "date_due": 1800000000}, APP) is False
    )
    late_start = {
        "title": "x",
        "project_id": 1,
        "date_due": "2027-03-01 10:00",
        "date_started": "2027-03-02 10:00",
    }
    assert dispatch(board, "createTask", late_start, APP) is False


def test_reopening_a_task_sets_date_completed_to_zero(board: DemoBoard) -> None:
    assert dispatch(board, "openTask", [7], APP) is True
    assert board.tasks[7]["date_completed"] == 0


def test_parameters_are_bound_with_kanboards_error_texts(board: DemoBoard) -> None:
    with pytest.raises(InvalidParamsError, match="Too many arguments"):
        dispatch(board, "getVersion", {"x": 1}, APP)
    with pytest.raises(InvalidParamsError, match="Missing argument: project_id"):
        dispatch(board, "getBoard", {"id": 1}, APP)


def test_user_logins_are_checked_per_project(board: DemoBoard) -> None:
    assert dispatch(board, "getBoard", {"project_id": 1}, Caller(user_id=3))
    with pytest.raises(ForbiddenError):
        dispatch(board, "getBoard", {"project_id": 2}, Caller(user_id=3))
    with pytest.raises(ForbiddenError):
        dispatch(board, "getMe", None, APP)


def test_the_query_language_reads_quotes_ids_and_operators(board: DemoBoard) -> None:
    assert parse_query('assignee:"Alice Chen" #12 due:<today disk') == [
        ("assignee", "Alice Chen"),
        ("id", "12"),
        ("due", "<today"),
        ("title", "disk"),
    ]
    found = dispatch(
        board, "searchTasks", {"project_id": 1, "query": 'assignee:"Alice Chen" due:<today'}, APP
    )
    assert [row["id"] for row in found] == [1]
    assert dispatch(board, "searchTasks", {"project_id": 1, "query": "column:Done status:closed"}, APP)


def test_the_procedure_table_names_every_read_and_write_function_once() -> None:
    from tools.kanboard_demo import reads, writes
    from tools.kanboard_demo.procedures import PROCEDURES

    listed = sorted(p.fn.__name__ for p in PROCEDURES.values())
    assert listed == sorted([*reads.__all__, *writes.__all__])
    assert PROCEDURES["getAllProjects"].access == "admin" and PROCEDURES["getMe"].access == "user"


def test_a_seed_file_of_the_same_shape_loads_in_place_of_the_packaged_one(tmp_path: Path) -> None:
    seed = load_seed()
    seed["projects"][0]["name"] = "Garden Shed"
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    board = DemoBoard(load_seed(path), clock=lambda: NOW)
    names = {row["name"] for row in dispatch(board, "getAllProjects", None, APP)}
    assert "Garden Shed" in names and "Homelab" not in names
