"""The write tools: create, update, move, close, reopen, comment, add a subtask.

Each validates what it can before sending (an empty title, an assignee who cannot own tasks in
that project, a date Kanboard would misread) and says what was done in one line. Every write drops
the cached board index so the next read sees it. Offered only when writes are enabled.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from .access import Access, now
from .errors import KanboardNotFoundError
from .models import Project, Task, User
from .resolve import Resolver, parse_due

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
        async with self._access.write("create_task") as r:
            found = await r.project(project)
            fields: dict[str, Any] = {}
            if description.strip():
                fields["description"] = description
            if column.strip():
                fields["column_id"] = (await r.column(found, column)).id
            if assignee.strip():
                fields["owner_id"] = (await _assignee(r, found, assignee)).id
            if due.strip():
                fields["date_due"] = parse_due(due, await r.timezone(), now())
            task_id = await r.kb.create_task(title.strip(), found.id, **fields)
            return f'Created task #{task_id} "{title.strip()}" in {found.name}.'

    async def update_task(
        self, task: str, title: str = "", description: str = "", assignee: str = "", due: str = ""
    ) -> str:
        async with self._access.write("update_task") as r:
            found = await r.task(task)
            fields: dict[str, Any] = {}
            if title.strip():
                fields["title"] = title.strip()
            if description.strip():
                fields["description"] = description
            if assignee.strip():
                nobody = assignee.strip().lower() in {"nobody", "none", "unassigned"}
                project = await _project_of(r, found)
                fields["owner_id"] = 0 if nobody else (await _assignee(r, project, assignee)).id
            if due.strip():
                fields["date_due"] = parse_due(due, await r.timezone(), now())
            if not fields:
                raise ToolError("Nothing to change: give a title, description, assignee or due date.")
            await r.kb.update_task(found.id, **fields)
            return (
                f"Updated task #{found.id}: "
                + ", ".join(sorted(fields)).replace("owner_id", "assignee")
                + "."
            )

    async def move_task(self, task: str, column: str, swimlane: str = "") -> str:
        async with self._access.write("move_task") as r:
            found = await r.task(task)
            project = await _project_of(r, found)
            target = await r.column(project, column)
            lane = await r.swimlane(project, swimlane) if swimlane.strip() else None
            swimlane_id = lane.id if lane else found.swimlane_id
            await r.kb.move_task(project.id, found.id, target.id, swimlane_id, 1)
            where = f"{target.title}" + (f" / {lane.name}" if lane else "")
            return f"Moved task #{found.id} {found.title} to {where}."

    async def close_task(self, task: str) -> str:
        async with self._access.write("close_task") as r:
            found = await r.task(task)
            await r.kb.close_task(found.id)
            return f"Closed task #{found.id} {found.title}."

    async def reopen_task(self, task: str) -> str:
        async with self._access.write("reopen_task") as r:
            found = await r.task(task)
            await r.kb.open_task(found.id)
            return f"Reopened task #{found.id} {found.title}."

    async def add_comment(self, task: str, text: str) -> str:
        if not text.strip():
            raise ToolError("The comment is empty.")
        async with self._access.write("add_comment") as r:
            found = await r.task(task)
            author = await _author(r)
            comment_id = await r.kb.create_comment(found.id, author.id, text.strip())
            return f"Added comment {comment_id} to task #{found.id} as {author.display}."

    async def add_subtask(self, task: str, title: str, assignee: str = "") -> str:
        if not title.strip():
            raise ToolError("The subtask title is empty.")
        async with self._access.write("add_subtask") as r:
            found = await r.task(task)
            user_id = (
                (await _assignee(r, await _project_of(r, found), assignee)).id if assignee.strip() else 0
            )
            subtask_id = await r.kb.create_subtask(found.id, title.strip(), user_id)
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


async def _project_of(r: Resolver, task: Task) -> Project:
    for project in await r.projects():
        if project.id == task.project_id:
            return project
    raise KanboardNotFoundError(
        f"Task #{task.id} is in project #{task.project_id}, which this user cannot see."
    )


async def _assignee(r: Resolver, project: Project, person: str) -> User:
    """A person who may own tasks in `project` (a member who is not a viewer)."""
    user = await r.person(person)
    assignable = await r.kb.assignable_users(project.id)
    if user.id not in assignable:
        names = ", ".join(sorted(assignable.values(), key=str.casefold)) or "nobody"
        raise KanboardNotFoundError(
            f"{user.display} cannot be assigned tasks in {project.name}; who can: {names}."
        )
    return user


async def _author(r: Resolver) -> User:
    """Who a comment is written as: the logged-in user, or with the API token the first administrator."""
    if not r.kb.is_app_auth:
        return await r.kb.me()
    admins = sorted((u for u in await r.users() if u.role == "app-admin" and u.is_active), key=lambda u: u.id)
    if not admins:
        raise KanboardNotFoundError("No active administrator to write the comment as.")
    return admins[0]
