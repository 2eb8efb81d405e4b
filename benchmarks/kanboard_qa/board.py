"""A snapshot of a Kanboard, read over JSON-RPC, that questions compute their ground truth from.

The demo board's dates move with the clock, so no answer is typed in: each question reads this
snapshot, taken right before it is asked. This module only reads; it does not ask questions or
score answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from tools.kanboard.client import KanboardClient
from tools.kanboard.models import Column, Comment, Project, Subtask, Task, TaskLink, User
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL

__all__ = ["Board", "seed_file", "snapshot"]


def seed_file(path: Path) -> dict[str, Any]:
    """A board's data from its JSON file (the demo seed's format, dates relative to now)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class Board:
    """Everything on the board at `now`: projects, people, every task with its details."""

    now: datetime
    tz: ZoneInfo
    projects: list[Project]
    users: list[User]
    tasks: list[Task]  # open and closed, every project
    columns: dict[int, Column]  # by column id
    members: dict[int, dict[int, str]]  # project id -> {user id: name}
    tags: dict[int, list[str]] = field(default_factory=dict)  # task id -> tag names
    comments: dict[int, list[Comment]] = field(default_factory=dict)  # task id -> comments, oldest first
    subtasks: dict[int, list[Subtask]] = field(default_factory=dict)
    links: dict[int, list[TaskLink]] = field(default_factory=dict)
    overdue_ids: set[int] = field(default_factory=set)  # as Kanboard's getOverdueTasks says

    # Lookups -------------------------------------------------------------------------------------

    def project(self, name: str) -> Project:
        """The project called `name` (case-insensitive)."""
        return next(p for p in self.projects if p.name.lower() == name.lower())

    def user(self, username: str) -> User:
        """The user with `username`."""
        return next(u for u in self.users if u.username == username)

    def task(self, task_id: int) -> Task:
        """The task with id `task_id`."""
        return next(t for t in self.tasks if t.id == task_id)

    def titled(self, words: str) -> Task:
        """The one task whose title contains `words` (case-insensitive)."""
        found = [t for t in self.tasks if words.lower() in t.title.lower()]
        if len(found) != 1:
            raise LookupError(f"{len(found)} tasks have {words!r} in their title")
        return found[0]

    def open_tasks(self, project: str | None = None) -> list[Task]:
        """Open tasks, in one project or all."""
        pid = self.project(project).id if project else None
        return [t for t in self.tasks if t.is_active and (pid is None or t.project_id == pid)]

    def overdue(self, project: str | None = None) -> list[Task]:
        """Open tasks past their due date, in one project or all."""
        return [t for t in self.open_tasks(project) if t.id in self.overdue_ids]

    def owned_by(self, username: str, *, open_only: bool = True) -> list[Task]:
        """Tasks assigned to `username`."""
        uid = self.user(username).id
        return [t for t in self.tasks if t.owner_id == uid and (t.is_active or not open_only)]

    def in_column(self, project: str, column: str) -> list[Task]:
        """Open tasks of `project` in the column titled `column`."""
        return [
            t for t in self.open_tasks(project) if self.columns[t.column_id].title.lower() == column.lower()
        ]

    def owner(self, task: Task) -> User | None:
        """Who the task is assigned to."""
        return next((u for u in self.users if u.id == task.owner_id), None)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the board's timezone."""
        return moment.astimezone(self.tz)

    def due_day(self, task: Task) -> date | None:
        """The day a task is due, in the board's timezone."""
        return self.local(task.date_due).date() if task.date_due else None

    @property
    def today(self) -> date:
        """Today, in the board's timezone."""
        return self.local(self.now).date()

    def due_within(self, days: int) -> list[Task]:
        """Open tasks due after now and within `days` days."""
        end = self.now + timedelta(days=days)
        return [t for t in self.open_tasks() if t.date_due and self.now < t.date_due <= end]


async def snapshot(transport: httpx.AsyncBaseTransport, settings: KanboardSettings | None = None) -> Board:
    """Read the whole board behind `transport` (the demo board unless `settings` say otherwise)."""
    settings = settings or KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))
    async with KanboardClient(settings, transport) as kb:
        projects = await kb.projects()
        users = await kb.users()
        tz = ZoneInfo(await kb.timezone())
        tasks: list[Task] = []
        columns: dict[int, Column] = {}
        members: dict[int, dict[int, str]] = {}
        for p in projects:
            tasks += await kb.tasks(p.id) + await kb.tasks(p.id, closed=True)
            columns.update({c.id: c for c in await kb.columns(p.id)})
            members[p.id] = await kb.project_users(p.id)
        board = Board(
            now=datetime.now(UTC),
            tz=tz,
            projects=projects,
            users=users,
            tasks=sorted(tasks, key=lambda t: t.id),
            columns=columns,
            members=members,
            overdue_ids={t.id for t in await kb.overdue()},
        )
        extras = await kb.extras([t.id for t in board.tasks])  # batched: a big board is 1,000 tasks
        for t in board.tasks:
            board.tags[t.id] = extras[t.id].tags
            board.comments[t.id] = extras[t.id].comments
            board.subtasks[t.id] = extras[t.id].subtasks
            board.links[t.id] = extras[t.id].links
    return board
