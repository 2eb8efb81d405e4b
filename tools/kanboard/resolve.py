"""Names to ids: projects, tasks, people, columns and swimlanes as a person (or small model) types them.

A project by name (case-insensitive) or id, a task by `#id`, id or title, a person by username,
display name or whole words of their name (a first name: "Sam" is Sam Porter, never Samantha).
A miss raises `KanboardNotFoundError` naming close matches, so the model can retry. Also turns a
typed due date into the "Y-m-d H:i" string Kanboard accepts. One `Resolver` lives for one tool
call and caches what it fetched; it never writes and never formats output.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .client import KanboardClient
from .errors import KanboardForbiddenError, KanboardNotFoundError
from .models import Column, Project, Swimlane, Task, User

__all__ = ["Resolver", "close_matches", "parse_due", "pick", "same_person", "same_words"]

T = TypeVar("T")
_ID = re.compile(r"#?\s*(\d+)")
_MAX_LISTED = 12


_WORD = re.compile(r"[a-z0-9]+")
_NAME_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _stems(text: str) -> set[str]:
    """Words of `text` cut to five letters, so "replacement" meets "Replace" (short words dropped)."""
    return {word[:5] for word in _WORD.findall(text.casefold()) if len(word) > 2}


def same_words(text: str, names: Iterable[str], share: float = 0.5) -> list[str]:
    """Names sharing at least `share` of the words of `text`, most shared first."""
    wanted = _stems(text)
    if not wanted:
        return []
    scored = [(len(wanted & _stems(name)) / len(wanted), name) for name in names]
    return [name for score, name in sorted(scored, key=lambda s: -s[0]) if score >= share]


def close_matches(text: str, names: Iterable[str]) -> list[str]:
    """Up to five names that look like `text` (case-insensitive), or share most of its words."""
    names = list(names)
    by_key = {name.casefold(): name for name in names}
    keys = difflib.get_close_matches(text.casefold(), list(by_key), n=5, cutoff=0.6)
    contains = [key for key in by_key if text.casefold() in key and key not in keys]
    similar = [by_key[key] for key in keys + contains]
    similar += [name for name in same_words(text, names) if name not in similar]
    return similar[:5]


def _miss(kind: str, text: str, names: list[str]) -> KanboardNotFoundError:
    similar = close_matches(text, names)
    if similar:
        hint = "Did you mean: " + ", ".join(similar) + "?"
    elif len(names) > _MAX_LISTED:  # a few of a thousand titles, picked by the alphabet, say nothing
        hint = f"None of the {len(names)} {kind}s is called that."  # (small models listed them as the answer)
    elif names:
        hint = f"Known {kind}s: {', '.join(sorted(names, key=str.casefold))}."
    else:
        hint = f"There are no {kind}s."
    return KanboardNotFoundError(f'No {kind} "{text}". {hint}')


def pick(kind: str, text: str, options: Mapping[str, T]) -> T:
    """The option whose name equals `text` case-insensitively, else a unique one containing it."""
    wanted = text.strip().casefold()
    for name, value in options.items():
        if name.casefold() == wanted:
            return value
    partial = [value for name, value in options.items() if wanted and wanted in name.casefold()]
    if len(partial) == 1:
        return partial[0]
    raise _miss(kind, text, list(options))


def same_person(text: str, user: User) -> bool:
    """Whether `text` names `user` by whole words of their name or username ("Sam", "Sam Porter",
    "porter"), not by a part of one ("Sam" is not Samantha)."""
    wanted = _NAME_WORD.findall(text.casefold())
    own = set(_NAME_WORD.findall(f"{user.name} {user.username}".casefold()))
    return bool(wanted) and set(wanted) <= own


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


class Resolver:
    """Looks up projects, tasks and people for one tool call, caching what it fetched."""

    def __init__(self, kb: KanboardClient) -> None:
        self.kb = kb
        self._projects: list[Project] | None = None
        self._users: list[User] | None = None
        self._tz: ZoneInfo | None = None

    async def timezone(self) -> ZoneInfo:
        """Kanboard's display timezone (UTC when Kanboard names one Python does not know)."""
        if self._tz is None:
            try:
                self._tz = ZoneInfo(await self.kb.timezone())
            except (ZoneInfoNotFoundError, ValueError):
                self._tz = ZoneInfo("UTC")
        return self._tz

    async def projects(self) -> list[Project]:
        """Every project this user can see."""
        if self._projects is None:
            self._projects = await self.kb.projects()
        return self._projects

    async def users(self) -> list[User]:
        """Every user; with a non-admin user login, the members of the projects it can see."""
        if self._users is None:
            try:
                self._users = await self.kb.users()
            except KanboardForbiddenError:
                seen: dict[int, User] = {}
                for project in await self.projects():
                    for user_id, name in (await self.kb.project_users(project.id)).items():
                        seen[user_id] = User(id=user_id, username=name)  # no usernames without admin
                self._users = list(seen.values())
        return self._users

    async def project(self, text: str) -> Project:
        """A project by name (case-insensitive), identifier or id."""
        projects = await self.projects()
        match = _ID.fullmatch(text.strip())
        if match:
            for project in projects:
                if project.id == int(match.group(1)):
                    return project
        options = {project.name: project for project in projects}
        options.update({p.identifier: p for p in projects if p.identifier and p.identifier not in options})
        try:
            return pick("project", text, options)
        except KanboardNotFoundError:
            raise _miss("project", text, [project.name for project in projects]) from None

    async def person(self, text: str) -> User:
        """A user by username, display name or id."""
        users = await self.users()
        match = _ID.fullmatch(text.strip())
        if match:
            for user in users:
                if user.id == int(match.group(1)):
                    return user
        wanted = text.strip().casefold()
        for user in users:
            if wanted in {user.username.casefold(), user.name.casefold(), user.display.casefold()}:
                return user
        # whole words only: "Sam" is Sam Porter, never Samantha or Samir (Kanboard's own
        # `assignee:` filter matches any part of a name)
        named = [user for user in users if same_person(text, user)]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            listed = ", ".join(user.display for user in named[:_MAX_LISTED])
            raise KanboardNotFoundError(f'Several people are called "{text}": {listed}. Name one in full.')
        raise _miss("person", text, [u.username for u in users] + [u.name for u in users if u.name])

    async def task(
        self, text: str, project: Project | None = None, *, known: Sequence[Task] | None = None
    ) -> Task:
        """A task by "#12", "12" or (part of) its title, open tasks first; titles among `known`
        (the board index's tasks) when given, else read from Kanboard project by project."""
        match = _ID.fullmatch(text.strip())
        if match:
            task = await self._task_by_id(int(match.group(1)))
            if task is None:
                raise KanboardNotFoundError(
                    f"No task #{match.group(1)}. Use search_tasks to find a task by words from its title."
                )
            return task
        projects = [project] if project else await self.projects()
        candidates: list[Task] = []
        for closed in (False, True):
            if known is not None:
                wanted = {each.id for each in projects}
                candidates += [t for t in known if t.project_id in wanted and bool(t.is_active) != closed]
            else:
                for each in projects:
                    candidates += await self.kb.tasks(each.id, closed=closed)
            found = _task_by_title(text, candidates)
            if found is not None:
                return found
        raise _miss("task", text, [task.title for task in candidates])

    async def _task_by_id(self, task_id: int) -> Task | None:
        try:
            return await self.kb.task(task_id)
        except KanboardForbiddenError:
            if self.kb.is_app_auth:
                raise
            return None  # user API: a task that does not exist is also a 403

    async def column(self, project: Project, text: str) -> Column:
        """A column of `project` by title."""
        columns = await self.kb.columns(project.id)
        return pick(f"column in {project.name}", text, {column.title: column for column in columns})

    async def swimlane(self, project: Project, text: str) -> Swimlane:
        """An active swimlane of `project` by name."""
        lanes = await self.kb.swimlanes(project.id)
        return pick(f"swimlane in {project.name}", text, {lane.name: lane for lane in lanes})


def _task_by_title(text: str, tasks: list[Task]) -> Task | None:
    wanted = text.strip().casefold()
    exact = [task for task in tasks if task.title.casefold() == wanted]
    partial = exact or [task for task in tasks if wanted and wanted in task.title.casefold()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        listed = "; ".join(f"#{task.id} {task.title}" for task in partial[:_MAX_LISTED])
        raise KanboardNotFoundError(
            f'Several tasks match "{text}": {listed}. Ask again with the task\'s #id.'
        )
    every_word = [title for title in same_words(text, [t.title for t in tasks], share=1.0)]
    if len(every_word) == 1:  # "ZFS disk replacement" -> "Replace failing disk in ZFS pool 'tank'"
        return next(task for task in tasks if task.title == every_word[0])
    return None
