"""Overdue has one definition (`Task.is_overdue`), and every tool that counts or lists late work agrees."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from mcp import Client

from tests.tools.kanboard.conftest import ServerFactory, text
from tools.kanboard import format as fmt
from tools.kanboard.models import Task
from tools.kanboard_demo import DemoBoard

TZ = UTC
DUE_TONIGHT = datetime(2026, 11, 21, 23, 59, tzinfo=UTC)  # a bare date typed as due: the end of that day


@pytest.mark.parametrize(
    ("now", "overdue", "said"),
    [
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), False, "due 2026-11-21 23:59, today"),
        (datetime(2026, 11, 21, 23, 59, tzinfo=UTC), True, "due 2026-11-21 23:59, OVERDUE (today)"),
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), True, "due 2026-11-21 23:59, OVERDUE by 2 days"),
    ],
)
def test_a_task_due_tonight_is_overdue_only_once_its_due_time_has_come(
    now: datetime, overdue: bool, said: str
) -> None:
    task = Task(id=1, title="x", date_due=int(DUE_TONIGHT.timestamp()))
    assert task.is_overdue(now) is overdue
    assert fmt.due(task, now, TZ) == said


def test_a_closed_task_or_one_without_a_due_date_is_never_overdue() -> None:
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert not Task(id=1, title="x", date_due=int(DUE_TONIGHT.timestamp()), is_active=0).is_overdue(later)
    assert not Task(id=1, title="x").is_overdue(later)
    assert (
        fmt.due(Task(id=1, title="x", date_due=int(DUE_TONIGHT.timestamp()), is_active=0), later, TZ)
        == "was due 2026-11-21 23:59"
    )


async def test_every_tool_counts_the_same_tasks_overdue_and_a_task_due_later_today_in_none(
    make_server: ServerFactory, board: DemoBoard
) -> None:
    homelab = [t for t in board.tasks.values() if t["project_id"] == 1 and t["is_active"]]
    late, later = homelab[0], homelab[1]
    late["date_due"], late["owner_id"] = int(time.time()) - 60, 5  # a minute ago: overdue
    later["date_due"], later["owner_id"] = int(time.time()) + 600, 5  # in ten minutes: not yet
    async with Client(make_server()) as client:
        answers = {
            tool: text(await client.call_tool(tool, args))
            for tool, args in [
                ("overdue_tasks", {"project": "Homelab"}),
                ("list_projects", {}),
                ("search_tasks", {"query": "due:overdue project:Homelab"}),
            ]
        }
        dave = text(await client.call_tool("tasks_of", {"person": "dave", "project": "Homelab"}))
        dave_late = text(await client.call_tool("overdue_tasks", {"project": "Homelab", "person": "dave"}))
    count = sum(1 for t in board.tasks.values() if t["project_id"] == 1 and board.is_overdue(t))
    assert answers["overdue_tasks"].endswith(f"({count} overdue tasks in Homelab)")
    assert f"Homelab (#1): {len(homelab)} open, {count} overdue" in answers["list_projects"]
    assert answers["search_tasks"].count("\n- #") == count
    assert (
        f"#{late['id']} " in answers["overdue_tasks"] and f"#{later['id']} " not in answers["overdue_tasks"]
    )
    mine = [t for t in homelab if t["owner_id"] == 5]
    dave_count = sum(1 for t in mine if board.is_overdue(t))
    assert dave.endswith(f"({len(mine)} tasks, {dave_count} of them overdue)")
    assert dave_late.endswith(f"({dave_count} overdue tasks in Homelab assigned to Dave Okafor (dave))")
