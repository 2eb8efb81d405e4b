"""The write tools: create, update, move, close, reopen, comment, add a subtask.

Each validates what it can before sending (an empty title, an assignee who cannot own tasks in
that project, a date Kanboard would misread) and says what was done in one line. Projects, tasks,
people, columns and swimlanes are found in the board index (`Access`), as the read tools find
them. Every write drops the cached board index so the next read sees it. Offered only when writes
are enabled.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mcp.server.mcpserver.exceptions import ToolError

from .access import Access, now
from .client import KanboardClient
from .errors import KanboardNotFoundError
from .index import BoardIndex
from .models import Project, User

__all__ = ["WRITES", "Writes"]


class Writes:
    """The bodies of the write tools."""

    def __init__(self, access: Access) -> None:
        self._access = access

    async def create_task(
        self,
        project: str,
        title: str,
        description: str = "",
        assignee: str = "",
        due: str = "",
        column: str = "",
    ) -> str:
        if not title.strip():
            raise ToolError("The title is empty: give the task a short title.")
        async with self._access.write("create_task") as kb:
            index = await self._access.index(kb)
            found = index.project(project)
            fields: dict[str, Any] = {}
            if description.strip():
                fields["description"] = description
            if column.strip():
                fields["column_id"] = index.column(found, column).id
            if assignee.strip():
                fields["owner_id"] = (await _assignee(kb, index, found, assignee)).id
            if due.strip():
                fields["date_due"] = parse_due(due, index.tz, now())
            task_id = await kb.create_task(title.strip(), found.id, **fields)
            return f'Created task #{task_id} "{title.strip()}" in {found.name}.'

    async def update_task(
        self, task: str, title: str = "", description: str = "", assignee: str = "", due: str = ""
    ) -> str:
        async with self._access.write("update_task") as kb:
            entry = await self._access.task(kb, task)
            index, found = await self._access.index(kb), entry.task
            fields: dict[str, Any] = {}
            if title.strip():
                fields["title"] = title.strip()
            if description.strip():
                fields["description"] = description
            if assignee.strip():
                nobody = assignee.strip().lower() in {"nobody", "none", "unassigned"}
                fields["owner_id"] = 0 if nobody else (await _assignee(kb, index, entry.project, assignee)).id
            if due.strip():
                fields["date_due"] = parse_due(due, index.tz, now())
            if not fields:
                raise ToolError("Nothing to change: give a title, description, assignee or due date.")
            await kb.update_task(found.id, **fields)
            return (
                f"Updated task #{found.id}: "
                + ", ".join(sorted(fields)).replace("owner_id", "assignee")
                + "."
            )

    async def move_task(self, task: str, column: str, swimlane: str = "") -> str:
        async with self._access.write("move_task") as kb:
            entry = await self._access.task(kb, task)
            index, found, project = await self._access.index(kb), entry.task, entry.project
            target = index.column(project, column)
            lane = index.swimlane(project, swimlane) if swimlane.strip() else None
            swimlane_id = lane.id if lane else found.swimlane_id
            await kb.move_task(project.id, found.id, target.id, swimlane_id, 1)
            where = f"{target.title}" + (f" / {lane.name}" if lane else "")
            return f"Moved task #{found.id} {found.title} to {where}."

    async def close_task(self, task: str) -> str:
        async with self._access.write("close_task") as kb:
            found = (await self._access.task(kb, task)).task
            await kb.close_task(found.id)
            return f"Closed task #{found.id} {found.title}."

    async def reopen_task(self, task: str) -> str:
        async with self._access.write("reopen_task") as kb:
            found = (await self._access.task(kb, task)).task
            await kb.open_task(found.id)
            return f"Reopened task #{found.id} {found.title}."

    async def add_comment(self, task: str, text: str) -> str:
        if not text.strip():
            raise ToolError("The comment is empty.")
        async with self._access.write("add_comment") as kb:
            found = (await self._access.task(kb, task)).task
            author = await _author(kb, await self._access.index(kb))
            comment_id = await kb.create_comment(found.id, author.id, text.strip())
            return f"Added comment {comment_id} to task #{found.id} as {author.display}."

    async def add_subtask(self, task: str, title: str, assignee: str = "") -> str:
        if not title.strip():
            raise ToolError("The subtask title is empty.")
        async with self._access.write("add_subtask") as kb:
            entry = await self._access.task(kb, task)
            found, index = entry.task, await self._access.index(kb)
            user_id = (await _assignee(kb, index, entry.project, assignee)).id if assignee.strip() else 0
            subtask_id = await kb.create_subtask(found.id, title.strip(), user_id)
            return f"Added subtask {subtask_id} to task #{found.id} {found.title}."


WRITES: list[tuple[str, str]] = [
    ("create_task", "Create a task; due is YYYY-MM-DD [HH:MM]."),
    ("update_task", "Change a task's title, description, assignee or due date; empty means unchanged."),
    ("move_task", "Move a task to another column (and swimlane)."),
    ("close_task", "Close a task."),
    ("reopen_task", "Reopen a closed task."),
    ("add_comment", "Add a comment to a task."),
    ("add_subtask", "Add a subtask to a task."),
]


def parse_due(text: str, tz: ZoneInfo, now: datetime) -> str:
    """A typed due date as Kanboard's "Y-m-d H:i"; "" for "none". A bare date means the end of that day.

    Accepts YYYY-MM-DD, YYYY-MM-DD HH:MM (or with a T), today, tomorrow, "none".
    """
    value = text.strip().lower()
    if value in {"none", "no", "clear", "-"}:
        return ""
    today = now.astimezone(tz).date()
    named = {"today": today, "tomorrow": today + timedelta(days=1)}
    if value in named:
        return datetime.combine(named[value], time(23, 59)).strftime("%Y-%m-%d %H:%M")
    for fmt, has_time in (("%Y-%m-%d %H:%M", True), ("%Y-%m-%dT%H:%M", True), ("%Y-%m-%d", False)):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.strftime("%Y-%m-%d %H:%M") if has_time else parsed.strftime("%Y-%m-%d 23:59")
    raise KanboardNotFoundError(f'Cannot read the date "{text}": write it as YYYY-MM-DD or YYYY-MM-DD HH:MM.')


async def _assignee(kb: KanboardClient, index: BoardIndex, project: Project, person: str) -> User:
    """A person who may own tasks in `project` (a member who is not a viewer)."""
    user = index.person(person)
    assignable = await kb.assignable_users(project.id)
    if user.id not in assignable:
        names = ", ".join(sorted(assignable.values(), key=str.casefold)) or "nobody"
        raise KanboardNotFoundError(
            f"{user.display} cannot be assigned tasks in {project.name}; who can: {names}."
        )
    return user


async def _author(kb: KanboardClient, index: BoardIndex) -> User:
    """Who a comment is written as: the logged-in user, or with the API token the first administrator."""
    if not kb.is_app_auth:
        return await kb.me()
    admins = sorted((u for u in index.users if u.role == "app-admin" and u.is_active), key=lambda u: u.id)
    if not admins:
        raise KanboardNotFoundError("No active administrator to write the comment as.")
    return admins[0]
