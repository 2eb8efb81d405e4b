"""The read tools: what a person asks about a Kanboard, answered in a few lines a small model can read.

Each tool finds what it needs (`Access`, `Resolver`, the board `index`) and renders it (`format`).
They forgive the mistakes small models make with arguments: a project or person that does not
exist is answered with what does exist and with the tasks that mention those words (a task title
passed as a project finds the task), and a task named by loose words is found by search. Nothing
here writes to Kanboard.
"""

from __future__ import annotations

from datetime import timedelta

from mcp.server.mcpserver.exceptions import ToolError

from . import format as fmt
from .access import Access, now
from .errors import KanboardNotFoundError
from .index import BoardIndex, Entry, Hit, Query, parse_query, snippet, stems
from .models import Project, Task, User
from .resolve import Resolver

__all__ = ["READS", "Reads"]

_EVERY_PROJECT = {"", "all", "any", "*", "all projects", "every project", "everything", "none"}
_LISTED = 25  # task lines in one answer
_CLEAR_LEAD = 1.25  # the best match is shown in full when it scores this much above the next
_OTHERS = 3  # matches listed after a best match shown in full, if they score half as well


class Reads:
    """The bodies of the read tools."""

    def __init__(self, access: Access) -> None:
        self._access = access

    async def list_projects(self) -> str:
        async with self._access.session("list_projects") as r:
            projects = await r.projects()
            index = await self._access.index(r)  # one read of the board, not one per project
            open_tasks: dict[int, list[Task]] = {project.id: [] for project in projects}
            for entry in index.entries:
                if entry.is_open and entry.project.id in open_tasks:
                    open_tasks[entry.project.id].append(entry.task)
            return fmt.projects(projects, open_tasks, now(), self._access.demo)

    async def show_board(self, project: str, column: str = "") -> str:
        async with self._access.session("show_board") as r:
            found = await _project(r, project)
            if isinstance(found, str):
                return await self._elsewhere(r, "project", project, found)
            if found is None:
                names = ", ".join(p.name for p in await r.projects())
                raise ToolError(f"Name one project; the projects are: {names}.")
            swimlanes = await r.kb.board(found.id)
            if column.strip():
                titles = [c.title for c in swimlanes[0].columns] if swimlanes else []
                wanted = next((t for t in titles if t.casefold() == column.strip().casefold()), None)
                if wanted is None:
                    raise ToolError(
                        f'No column "{column}" in {found.name}; its columns: {", ".join(titles)}.'
                    )
                return fmt.column(found, wanted, swimlanes, await r.timezone(), now())
            return fmt.board(found, swimlanes, await r.timezone(), now())

    async def search_tasks(self, query: str) -> str:
        if not query.strip():
            raise ToolError("The query is empty: give words from a task, or a filter such as 'tag:NAME'.")
        async with self._access.session("search_tasks") as r:
            index = await self._access.index(r)
            return _search_answer(index, _as_tag(parse_query(query), index), query)

    async def get_task(self, task: str) -> str:
        async with self._access.session("get_task") as r:
            index = await self._access.index(r)
            person = _named_person(index, task)
            if person is not None:  # small models pass a name where a task belongs
                return f'"{task}" is a person, not a task.\n' + _tasks_of(index, person)
            entry, note = await _task(r, index, task)
            return (note + "\n" if note else "") + _detail(entry, index)

    async def overdue_tasks(self, project: str = "", person: str = "") -> str:
        async with self._access.session("overdue_tasks") as r:
            found = await _project(r, project)
            if isinstance(found, str):
                return await self._elsewhere(r, "project", project, found)
            owner = await _person(r, person)
            if isinstance(owner, str):
                return await self._elsewhere(r, "person", person, owner)
            if found is not None:
                tasks, scope = await r.kb.overdue_in(found.id), f"in {found.name}"
            else:
                tasks, scope = await r.kb.overdue(), "in all projects"
            if owner is not None:
                tasks = [t for t in tasks if t.owner_id == owner.id]
                scope += f" assigned to {owner.display}"
            return fmt.overdue(tasks, await r.timezone(), now(), scope)

    async def due_soon(self, days: int = 7, person: str = "") -> str:
        days = max(0, min(int(days), 366))
        async with self._access.session("due_soon") as r:
            owner = await _person(r, person)
            if isinstance(owner, str):
                return await self._elsewhere(r, "person", person, owner)
            index = await self._access.index(r)
            last_day = index.today() + timedelta(days=days)
            coming = [
                e
                for e in index.entries
                if e.is_open
                and e.task.date_due is not None
                and e.task.date_due > index.now
                and e.task.date_due.astimezone(index.tz).date() <= last_day
                and (owner is None or (e.assignee is not None and e.assignee.id == owner.id))
            ]
            coming.sort(key=lambda e: e.task.date_due or index.now)
            window = (
                "today" if days == 0 else "today or tomorrow" if days == 1 else f"in the next {days} days"
            )
            whose = f" of {owner.display}" if owner else ""
            header = f"Open tasks{whose} due {window} (today is {index.today():%A %Y-%m-%d})"
            return fmt.task_list(header, [_task_of(e) for e in coming], index.tz, index.now)

    async def tasks_of(self, person: str, project: str = "") -> str:
        async with self._access.session("tasks_of") as r:
            try:
                user = await r.person(person)
            except KanboardNotFoundError as exc:
                return await self._elsewhere(r, "person", person, str(exc))
            found = await _project(r, project)
            scope = None if isinstance(found, str) else found  # an unknown project: every project
            return _tasks_of(await self._access.index(r), user, scope)

    async def list_people(self, project: str = "") -> str:
        async with self._access.session("list_people") as r:
            found = await _project(r, project)
            if isinstance(found, str):
                return await self._elsewhere(r, "project", project, found)
            index = await self._access.index(r)
            users = await r.users()
            members: dict[int, str] | None = None
            viewers: set[int] = set()
            if found is not None:
                members = await r.kb.project_users(found.id)
                viewers = set(members) - set(await r.kb.assignable_users(found.id))
            counts = {}
            for user in users:
                if members is not None and user.id not in members:
                    continue
                mine = [
                    e
                    for e in index.entries
                    if e.is_open
                    and e.assignee is not None
                    and e.assignee.id == user.id
                    and (found is None or e.project.id == found.id)
                ]
                late = sum(1 for e in mine if e.task.date_due is not None and e.task.date_due <= index.now)
                counts[user.id] = (user, len(mine), late)
            return fmt.people_with_counts(found, list(counts.values()), viewers)

    async def _elsewhere(self, r: Resolver, kind: str, text: str, why: str) -> str:
        """The answer when `text` names no `kind`: say so, and show the tasks that mention it."""
        index = await self._access.index(r)
        hits = index.search(Query(words=text))
        if not hits:
            raise ToolError(f'{why} No task mentions "{text}" either.')
        lines = [why, f'Tasks that mention "{text}":']
        lines += [f"- {fmt.task_line(_task_of(h.entry), index.tz, index.now)}" for h in hits[:5]]
        return "\n".join(lines)


READS: list[tuple[str, str]] = [  # in the order models see them: small models favour the first
    (
        "search_tasks",
        "Find a task by words in its title, description, comments or subtasks, or by filters "
        "like tag:NAME status:closed; shows the best one whole.",
    ),
    (
        "get_task",
        "One task in full (#id or words of its title): status, assignee, due date, priority, "
        "description, subtasks, comments, links.",
    ),
    ("tasks_of", "What one person is working on: their open tasks (in one project or all)."),
    ("show_board", "What is in each column of a project's board, or in one column."),
    ("overdue_tasks", "Open tasks already past their due date, most overdue first (of a project, a person)."),
    ("due_soon", "Open tasks due in the coming days (days=1: today and tomorrow), soonest first."),
    ("list_projects", "Every project with its number of open and overdue tasks."),
    ("list_people", "People with how many open and overdue tasks each has; with project, its members."),
]


async def _person(r: Resolver, text: str) -> User | str | None:
    """The person `text` names; None when it is empty; the reason as text when there is none."""
    if not text.strip():
        return None
    try:
        return await r.person(text)
    except KanboardNotFoundError as exc:
        return str(exc)


async def _project(r: Resolver, text: str) -> Project | str | None:
    """The project `text` names; None for every project; the reason as text when there is none."""
    if text.strip().casefold() in _EVERY_PROJECT:
        return None
    try:
        return await r.project(text)
    except KanboardNotFoundError as exc:
        return str(exc)


def _tasks_of(index: BoardIndex, user: User, project: Project | None = None) -> str:
    mine = [
        e
        for e in index.entries
        if e.is_open
        and e.assignee is not None
        and e.assignee.id == user.id
        and (project is None or e.project.id == project.id)
    ]
    late = sum(1 for e in mine if e.task.date_due is not None and e.task.date_due <= index.now)
    note = f"{late} of them overdue" if late else "none overdue"
    header = f"Open tasks of {user.display}" + (f" in {project.name}" if project else "")
    return fmt.task_list(header, [_task_of(e) for e in mine], index.tz, index.now, note=note)


def _named_person(index: BoardIndex, text: str) -> User | None:
    """The person `text` names exactly (full name or username), if any."""
    wanted = text.strip().casefold()
    return next((u for u in index.users if wanted in {u.name.casefold(), u.username.casefold()}), None)


def _task_of(entry: Entry) -> Task:
    """The entry's task with the names a task line shows."""
    user = entry.assignee
    return entry.task.model_copy(
        update={
            "project_name": entry.project.name,
            "column_name": entry.column,
            "assignee_name": user.name or user.username if user else None,
        }
    )


def _as_tag(query: Query, index: BoardIndex) -> Query:
    """Words that are exactly a tag on the board ("zfs") search by that tag."""
    words = query.words.strip().casefold()
    tags = {tag.casefold() for e in index.entries for tag in e.extras.tags}
    if words and words in tags and "tag" not in query.filters:
        return Query({**query.filters, "tag": [words]}, "")
    return query


def _search_answer(index: BoardIndex, query: Query, asked: str) -> str:
    """Filters alone: the open tasks that pass (closed ones counted). Words: the best match first,
    in full when it leads clearly; other closed matches counted, not listed, unless asked for."""
    hits = index.search(query)
    if not hits:
        return f'No task matches "{asked}".'
    if not query.words:
        if query.status != "all":
            return fmt.task_list(
                f'Tasks matching "{asked}"', [_task_of(h.entry) for h in hits][:_LISTED], index.tz, index.now
            )
        shown = [_task_of(h.entry) for h in hits if h.entry.is_open][:_LISTED]
        closed = sum(not h.entry.is_open for h in hits)
        note = (
            f"{fmt.count(closed, 'closed task')} also match: add status:closed to list them" if closed else ""
        )
        return fmt.task_list(f'Open tasks matching "{asked}"', shown, index.tz, index.now, note=note)
    best, rest = hits[0], hits[1:]
    unknown = index.unknown_words(query.words)
    if unknown:  # no best match to show in full: small models answer from it as if it were the task
        listed = [h for h in hits if h.entry.is_open][:_OTHERS] or hits[:_OTHERS]
        head = f"No task mentions {_quoted(unknown)}. Tasks with the other words (maybe not the one asked):"
        return "\n".join([head, *(_hit_line(h, query, index) for h in listed)])
    if not rest or best.score >= _CLEAR_LEAD * rest[0].score:  # one clear answer: it, in full
        close = [h for h in rest if h.entry.is_open and h.score >= best.score / 2][:_OTHERS]
        lines = [f'Best match for "{asked}":', _detail(best.entry, index)]
        if close:
            lines += ["Other matches:", *(_hit_line(h, query, index) for h in close)]
        more = len(rest) - len(close)
        if more:
            lines.append(f"({fmt.count(more, 'weaker match')} not shown.)")
        return "\n".join(lines)
    listed = [h for h in hits if h.entry.is_open or h is best or query.status != "all"][:_LISTED]
    lines = [f'{len(hits)} tasks match "{asked}", best first:', *(_hit_line(h, query, index) for h in listed)]
    return "\n".join(lines) + _closed_note(sum(h not in listed and not h.entry.is_open for h in hits))


def _quoted(words: list[str]) -> str:
    return " or ".join(f'"{w}"' for w in words)


def _closed_note(closed: int) -> str:
    if not closed:
        return ""
    return f"\n({fmt.count(closed, 'closed task')} also match: add status:closed to list them.)"


def _hit_line(hit: Hit, query: Query, index: BoardIndex) -> str:
    line = f"- {fmt.task_line(_task_of(hit.entry), index.tz, index.now)}"
    title_words = set(stems(hit.entry.task.title))
    if not hit.matched <= title_words:
        found = snippet(hit.entry, query, index.tz)
        if found:
            line += f"\n  {found}"
    return line


def _detail(entry: Entry, index: BoardIndex) -> str:
    names = {
        "project": entry.project.name,
        "column": entry.column,
        "swimlane": entry.swimlane,
        "category": entry.category,
        "assignee": entry.assignee.display if entry.assignee else "",
        "creator": entry.creator.display if entry.creator else "",
    }
    extras = entry.extras
    return fmt.task_detail(
        entry.task,
        names=names,
        tags=extras.tags,
        subtasks=extras.subtasks,
        comments=extras.comments,
        links=extras.links,
        tz=index.tz,
        now=index.now,
        linked={
            e.task.id: _task_of(e) for e in index.entries if e.task.id in {x.task_id for x in extras.links}
        },
    )


async def _task(r: Resolver, index: BoardIndex, text: str) -> tuple[Entry, str]:
    """The task `text` names (#id, a title, part of one, or its words), and a note when it was a guess."""
    by_id = {e.task.id: e for e in index.entries}
    try:
        task = await r.task(text, known=[e.task for e in index.entries])
    except KanboardNotFoundError as exc:
        hits = index.search(Query(words=text))
        if not hits or text.strip().lstrip("#").isdigit():
            raise ToolError(str(exc)) from None
        others = "; ".join(f"#{h.entry.task.id} {h.entry.task.title}" for h in hits[1:4])
        note = f'"{text}" names no single task; the best match is #{hits[0].entry.task.id}.'
        return hits[0].entry, note + (f" Other matches: {others}." if others else "")
    entry = by_id.get(task.id)
    if entry is None:  # created since the index was read
        index = await _fresh(r, index)
        entry = next(e for e in index.entries if e.task.id == task.id)
    return entry, ""


async def _fresh(r: Resolver, index: BoardIndex) -> BoardIndex:
    return await BoardIndex.load(r.kb, await r.projects(), await r.users(), index.tz, now())
