"""The read tools: what a person asks about a Kanboard, answered in a few lines a small model can read.

Each tool finds what it names in the board `index` (`Access`) and renders it (`format`). They
forgive the mistakes small models make with arguments: a project or person that does not exist
is answered with what does exist and with the tasks that mention those words (a task title passed
as a project finds the task), and a task named by loose words is found by search. Only the board
layout and a project's members are read live (`show_board`, `list_people`). Nothing here writes
to Kanboard or renders text.
"""

from __future__ import annotations

from datetime import timedelta

from mcp.server.mcpserver.exceptions import ToolError

from . import format as fmt
from .access import Access, now
from .client import KanboardClient
from .errors import KanboardNotFoundError
from .index import BoardIndex, Entry, Hit, Query, parse_query
from .models import Project, User

__all__ = ["READS", "Reads"]

_EVERY_PROJECT = {"", "all", "any", "*", "all projects", "every project", "everything", "none"}


class Reads:
    """The bodies of the read tools."""

    def __init__(self, access: Access) -> None:
        self._access = access

    async def list_projects(self) -> str:
        async with self._access.session("list_projects") as kb:
            index = await self._access.index(kb)  # one read of the board, not one per project
            return fmt.projects(index.projects, index.open_tasks(), index.now)

    async def show_board(self, project: str, column: str = "") -> str:
        async with self._access.session("show_board") as kb:
            index = await self._access.index(kb)
            found = _project(index, project)
            if isinstance(found, str):
                return self._elsewhere(index, project, found)
            if found is None:
                names = ", ".join(p.name for p in index.projects)
                raise ToolError(f"Name one project; the projects are: {names}.")
            swimlanes = await kb.board(found.id)
            if column.strip():
                titles = [c.title for c in swimlanes[0].columns] if swimlanes else []
                wanted = next((t for t in titles if t.casefold() == column.strip().casefold()), None)
                if wanted is None:
                    raise ToolError(
                        f'No column "{column}" in {found.name}; its columns: {", ".join(titles)}.'
                    )
                return fmt.column(found, wanted, swimlanes, index.tz, now())
            return fmt.board(found, swimlanes, index.tz, now())

    async def search_tasks(self, query: str) -> str:
        if not query.strip():
            raise ToolError("The query is empty: give words from a task, or a filter such as 'tag:NAME'.")
        async with self._access.session("search_tasks") as kb:
            index = await self._access.index(kb)
            wanted = _as_tag(parse_query(query), index)
            hits = index.search(wanted)
            unknown = index.unknown_words(wanted.words) if hits and wanted.words else []
            return fmt.search_answer(query, wanted, hits, unknown, index)

    async def get_task(self, task: str) -> str:
        async with self._access.session("get_task") as kb:
            index = await self._access.index(kb)
            person = index.exact_person(task)
            if person is not None:  # small models pass a name where a task belongs
                return f'"{task}" is a person, not a task.\n' + fmt.tasks_of(person, None, index)
            entry, others = await self._task(kb, task)
            return fmt.task_guess(task, entry, others) + fmt.task_detail(entry, await self._access.index(kb))

    async def overdue_tasks(self, project: str = "", person: str = "") -> str:
        async with self._access.session("overdue_tasks") as kb:
            index = await self._access.index(kb)
            found = _project(index, project)
            if isinstance(found, str):
                return self._elsewhere(index, project, found)
            owner = _person(index, person)
            if isinstance(owner, str):
                return self._elsewhere(index, person, owner)
            scope = f"in {found.name}" if found is not None else "in all projects"
            if owner is not None:
                scope += f" assigned to {owner.display}"
            return fmt.overdue(index.overdue(found, owner), index.tz, index.now, scope)

    async def due_soon(self, days: int = 7, person: str = "") -> str:
        days = max(0, min(int(days), 366))
        async with self._access.session("due_soon") as kb:
            index = await self._access.index(kb)
            owner = _person(index, person)
            if isinstance(owner, str):
                return self._elsewhere(index, person, owner)
            last_day = index.today() + timedelta(days=days)
            coming = [
                e
                for e in index.open_tasks(owner=owner)
                if e.task.date_due is not None
                and not e.task.is_overdue(index.now)
                and e.task.date_due.astimezone(index.tz).date() <= last_day
            ]
            coming.sort(key=lambda e: e.task.date_due or index.now)
            return fmt.due_soon(coming, days, owner, index)

    async def tasks_of(self, person: str, project: str = "") -> str:
        async with self._access.session("tasks_of") as kb:
            index = await self._access.index(kb)
            try:
                user = index.person(person)
            except KanboardNotFoundError as exc:
                return self._elsewhere(index, person, str(exc))
            found = _project(index, project)
            scope = None if isinstance(found, str) else found  # an unknown project: every project
            return fmt.tasks_of(user, scope, index)

    async def list_people(self, project: str = "") -> str:
        async with self._access.session("list_people") as kb:
            index = await self._access.index(kb)
            found = _project(index, project)
            if isinstance(found, str):
                return self._elsewhere(index, project, found)
            members: dict[int, str] | None = None
            viewers: set[int] = set()
            if found is not None:
                members = await kb.project_users(found.id)
                viewers = set(members) - set(await kb.assignable_users(found.id))
            rows = [
                (user, index.open_tasks(found, user))
                for user in index.users
                if members is None or user.id in members
            ]
            return fmt.people_with_counts(found, rows, viewers, index.now)

    def _elsewhere(self, index: BoardIndex, text: str, why: str) -> str:
        """The answer when `text` names nothing of its kind: say so, and show the tasks that mention it."""
        hits = index.search(Query(words=text))
        if not hits:
            raise ToolError(f'{why} No task mentions "{text}" either.')
        return fmt.mentions(why, text, hits, index)

    async def _task(self, kb: KanboardClient, text: str) -> tuple[Entry, list[Hit]]:
        """The task `text` names (#id, a title, part of one, or its words); when it was a guess
        (the best match for its words), the other matches too."""
        try:
            return await self._access.task(kb, text), []
        except KanboardNotFoundError as exc:
            hits = (await self._access.index(kb)).search(Query(words=text))
            if not hits or text.strip().lstrip("#").isdigit():
                raise ToolError(str(exc)) from None
            return hits[0].entry, hits


READS: list[tuple[str, str]] = [  # in the order models see them: small models favour the first
    (
        "search_tasks",
        "One task, found by words of its title, description, comments or subtasks (or tag:NAME, "
        "status:closed): who has it, when it is due or was done, what holds it up, what is left.",
    ),
    (
        "get_task",
        "One task in full (#id or words of its title): status, assignee, due date, priority, "
        "description, subtasks, comments, links.",
    ),
    ("tasks_of", "What one person is working on: their open tasks (in one project or all)."),
    ("show_board", "What is in each column of a project's board, or in one column."),
    (
        "overdue_tasks",
        "Open tasks already past their due date, most overdue first (of a project, a person). "
        "Not for one task's deadline or hold-up: search_tasks finds those.",
    ),
    ("due_soon", "Open tasks due in the coming days (days=1: today and tomorrow), soonest first."),
    ("list_projects", "Every project with its number of open and overdue tasks."),
    ("list_people", "People with how many open and overdue tasks each has; with project, its members."),
]


def _person(index: BoardIndex, text: str) -> User | str | None:
    """The person `text` names; None when it is empty; the reason as text when there is none."""
    if not text.strip():
        return None
    try:
        return index.person(text)
    except KanboardNotFoundError as exc:
        return str(exc)


def _project(index: BoardIndex, text: str) -> Project | str | None:
    """The project `text` names; None for every project; the reason as text when there is none."""
    if text.strip().casefold() in _EVERY_PROJECT:
        return None
    try:
        return index.project(text)
    except KanboardNotFoundError as exc:
        return str(exc)


def _as_tag(query: Query, index: BoardIndex) -> Query:
    """Words that are exactly a tag on the board ("zfs") search by that tag."""
    words = query.words.strip().casefold()
    tags = {tag.casefold() for e in index.entries for tag in e.extras.tags}
    if words and words in tags and "tag" not in query.filters:
        return Query({**query.filters, "tag": [words]}, "")
    return query
