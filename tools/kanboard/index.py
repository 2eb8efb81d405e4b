"""The whole board in one snapshot: the one place the Kanboard tools find a project, a person, a task.

`BoardIndex.read` reads, in a handful of batched JSON-RPC requests, the projects, people, columns,
swimlanes and categories, and every task this user can see (open and closed) with its comments,
subtasks, tags and links. Given the `previous` index it refreshes instead: every task's row again
(one batch), but comments, subtasks, tags and links only for the tasks that are new or whose
`date_modification` moved; the others keep theirs (and their search terms), so a refresh of a
1,000-task board reads a few tasks' details, not a thousand. Kanboard does not move a task's
`date_modification` for a new comment or subtask, so the caller rebuilds in full now and then
(`Access`, `index_full_s`).

Names as a person (or small model) types them: a project by name (case-insensitive), identifier
or id; a person by username, display name or whole words of their name ("Sam" is Sam Porter,
never Samantha); a task by `#id`, id or title, open tasks first, closed ones too; a column or
swimlane of a project by title. A miss raises `KanboardNotFoundError` naming close matches
(`words.miss`), so the model can retry. `search` keeps the tasks that pass Kanboard-style filters
(`tag:zfs status:closed assignee:bob due:tomorrow`) and ranks them against the remaining words:
BM25 over stemmed words (`words.stems`), the title and tags weighted up, so a word in a comment or
a description finds its task. Overdue is `Task.is_overdue`, here as everywhere.

It formats nothing (`format`), chooses no tool (`server`) and caches nothing itself (`Access`
keeps an index for a few seconds).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .client import KanboardClient
from .errors import KanboardForbiddenError, KanboardNotFoundError
from .models import Column, Project, Swimlane, Task, TaskExtras, User
from .words import MAX_LISTED, miss, pick, same_person, same_words, stems, words

__all__ = ["BoardIndex", "Entry", "Hit", "Query", "parse_query"]

_ID = re.compile(r"#?\s*(\d+)")
_FILTER = re.compile(r'(?<!\S)(\w+):("[^"]*"|\S+)')
_FIELDS = ("status", "tag", "assignee", "column", "project", "due", "category", "swimlane", "priority")
_WEIGHTS = {"title": 3, "tags": 2, "names": 1, "description": 1, "comments": 1, "subtasks": 1, "links": 1}
_K1, _B = 1.2, 0.75


@dataclass(frozen=True)
class Query:
    """A search: Kanboard-style filters and free words."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    words: str = ""

    @property
    def status(self) -> str:
        """ "open", "closed" or "all": the status filter, "all" when none was given."""
        given = [value.casefold() for value in self.filters.get("status", [])]
        if not given:
            return "all"
        if any(v in {"closed", "done", "finished", "completed", "inactive"} for v in given):
            return "all" if any(v in {"open", "active"} for v in given) else "closed"
        return "all" if any(v in {"all", "any", "*"} for v in given) else "open"


def parse_query(text: str) -> Query:
    """`tag:zfs status:closed words` → filters {"tag": ["zfs"], "status": ["closed"]} and "words"."""
    filters: dict[str, list[str]] = {}

    def take(match: re.Match[str]) -> str:
        key = match.group(1).casefold()
        if key not in _FIELDS:
            return match.group(0)
        filters.setdefault(key, []).append(match.group(2).strip('"').strip())
        return " "

    words = _FILTER.sub(take, text)
    return Query(filters, " ".join(words.split()))


@dataclass(frozen=True)
class Entry:
    """One task with the names and text around it."""

    task: Task
    project: Project
    column: str
    swimlane: str
    category: str
    assignee: User | None
    creator: User | None
    extras: TaskExtras

    @property
    def is_open(self) -> bool:
        """Whether the task is open."""
        return bool(self.task.is_active)

    def fields(self) -> dict[str, str]:
        """The task's searchable text, by field."""
        extras = self.extras
        names = [self.project.name, self.column, self.swimlane, self.category]
        if self.assignee:
            names += [self.assignee.name, self.assignee.username]
        return {
            "title": self.task.title,
            "tags": " ".join(extras.tags),
            "names": " ".join(n for n in names if n),
            "description": self.task.description,
            "comments": " ".join(c.comment for c in extras.comments),
            "subtasks": " ".join(s.title for s in extras.subtasks),
            "links": " ".join(f"{link.label} {link.title}" for link in extras.links),
        }


@dataclass(frozen=True)
class Hit:
    """A task that matched a search, how well, and which of the query's words it holds."""

    entry: Entry
    score: float
    matched: frozenset[str]


@dataclass
class BoardIndex:
    """Every task this user can see, with what a search needs."""

    projects: list[Project]
    users: list[User]
    entries: list[Entry]
    tz: ZoneInfo
    now: datetime
    columns: dict[int, list[Column]] = field(default_factory=dict)  # project id -> columns, in order
    swimlanes: dict[int, list[Swimlane]] = field(default_factory=dict)  # project id -> active swimlanes
    _bags: list[Counter[str]] = field(default_factory=list, init=False, repr=False)
    _df: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    reused: int = 0  # entries whose details came from the previous index (0 for a full read)
    known_terms: InitVar[Mapping[int, Counter[str]] | None] = None  # task id -> terms still valid

    def __post_init__(self, known_terms: Mapping[int, Counter[str]] | None) -> None:
        for entry in self.entries:
            bag = (known_terms or {}).get(entry.task.id)
            if bag is None:
                bag = Counter()
                for name, text in entry.fields().items():
                    for stem in stems(text):
                        bag[stem] += _WEIGHTS[name]
            self._bags.append(bag)
            self._df.update(bag.keys())

    @classmethod
    async def read(cls, kb: KanboardClient, now: datetime, previous: BoardIndex | None = None) -> BoardIndex:
        """The board this user sees: its projects, people, timezone and every task (see `load`)."""
        try:
            tz = ZoneInfo(await kb.timezone())
        except (ZoneInfoNotFoundError, ValueError):  # a timezone Python does not know
            tz = ZoneInfo("UTC")
        projects = await kb.projects()
        try:
            users = await kb.users()
        except KanboardForbiddenError:  # a user login that is not an admin: the members it can see
            seen: dict[int, User] = {}
            for project in projects:
                for user_id, name in (await kb.project_users(project.id)).items():
                    seen[user_id] = User(id=user_id, username=name)  # no usernames without admin
            users = list(seen.values())
        return await cls.load(kb, projects, users, tz, now, previous)

    @classmethod
    async def load(
        cls,
        kb: KanboardClient,
        projects: Sequence[Project],
        users: Sequence[User],
        tz: ZoneInfo,
        now: datetime,
        previous: BoardIndex | None = None,
    ) -> BoardIndex:
        """Read every task of `projects` with its comments, subtasks, tags and links; with
        `previous`, only the details of tasks changed since (see the module docstring)."""
        ids = [p.id for p in projects]
        tasks = await kb.every_task(ids)
        layouts = await kb.layouts(ids)
        known = {e.task.id: e for e in previous.entries} if previous is not None else {}
        stale = [
            t.id
            for t in tasks
            if t.id not in known
            or t.date_modification is None
            or known[t.id].task.date_modification != t.date_modification
        ]
        extras = await kb.extras(stale)
        fetched = set(stale)
        for t in tasks:
            if t.id not in fetched:
                extras[t.id] = known[t.id].extras
        by_project = {p.id: p for p in projects}
        by_user = {u.id: u for u in users}
        entries = []
        for task in sorted(tasks, key=lambda t: t.id):
            project = by_project.get(task.project_id)
            if project is None:
                continue
            cols, project_lanes, categories = layouts[project.id]
            entries.append(
                Entry(
                    task=task,
                    project=project,
                    column=next((c.title for c in cols if c.id == task.column_id), ""),
                    swimlane=next((s.name for s in project_lanes if s.id == task.swimlane_id), ""),
                    category=categories.get(task.category_id, ""),
                    assignee=by_user.get(task.owner_id),
                    creator=by_user.get(task.creator_id),
                    extras=extras.get(task.id, TaskExtras()),
                )
            )
        columns = {pid: layout[0] for pid, layout in layouts.items()}
        lanes = {pid: layout[1] for pid, layout in layouts.items()}
        terms: dict[int, Counter[str]] = {}
        if previous is not None:  # an entry with the same task, names and details keeps its terms
            old = {e.task.id: (e, bag) for e, bag in zip(previous.entries, previous._bags, strict=True)}
            for entry in entries:
                was = old.get(entry.task.id)
                if was is not None and was[0] == entry:
                    terms[entry.task.id] = was[1]
        reused = len(tasks) - len(stale) if previous is not None else 0
        return cls(
            list(projects), list(users), entries, tz, now, columns, lanes, reused=reused, known_terms=terms
        )

    def today(self) -> date:
        """Today in Kanboard's timezone."""
        return self.now.astimezone(self.tz).date()

    # Finding things by name ----------------------------------------------------------------------

    def project(self, text: str) -> Project:
        """A project by name (case-insensitive), identifier or id."""
        match = _ID.fullmatch(text.strip())
        if match:
            for project in self.projects:
                if project.id == int(match.group(1)):
                    return project
        options = {project.name: project for project in self.projects}
        options.update(
            {p.identifier: p for p in self.projects if p.identifier and p.identifier not in options}
        )
        try:
            return pick("project", text, options)
        except KanboardNotFoundError:
            raise miss("project", text, [project.name for project in self.projects]) from None

    def person(self, text: str) -> User:
        """A user by username, display name, id, or whole words of their name."""
        users = self.users
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
            listed = ", ".join(user.display for user in named[:MAX_LISTED])
            raise KanboardNotFoundError(f'Several people are called "{text}": {listed}. Name one in full.')
        raise miss("person", text, [u.username for u in users] + [u.name for u in users if u.name])

    def exact_person(self, text: str) -> User | None:
        """The person `text` names exactly (full name or username), if any."""
        wanted = text.strip().casefold()
        return next((u for u in self.users if wanted in {u.name.casefold(), u.username.casefold()}), None)

    def task(self, text: str) -> Entry:
        """A task by "#12", "12" or (part of) its title, open tasks first, then closed ones."""
        match = _ID.fullmatch(text.strip())
        if match:
            found = next((e for e in self.entries if e.task.id == int(match.group(1))), None)
            if found is None:
                raise KanboardNotFoundError(
                    f"No task #{match.group(1)}. Use search_tasks to find a task by words from its title."
                )
            return found
        candidates: list[Entry] = []
        for closed in (False, True):  # the open tasks, then the open and the closed
            candidates += [e for e in self.entries if e.is_open != closed]
            found = _by_title(text, candidates)
            if found is not None:
                return found
        raise miss("task", text, [e.task.title for e in candidates])

    def column(self, project: Project, text: str) -> Column:
        """A column of `project` by title."""
        columns = self.columns.get(project.id, [])
        return pick(f"column in {project.name}", text, {column.title: column for column in columns})

    def swimlane(self, project: Project, text: str) -> Swimlane:
        """An active swimlane of `project` by name."""
        lanes = self.swimlanes.get(project.id, [])
        return pick(f"swimlane in {project.name}", text, {lane.name: lane for lane in lanes})

    # Which tasks ---------------------------------------------------------------------------------

    def open_tasks(self, project: Project | None = None, owner: User | None = None) -> list[Entry]:
        """The open tasks (of one project, of one person), by id."""
        return [
            e
            for e in self.entries
            if e.is_open
            and (project is None or e.project.id == project.id)
            and (owner is None or (e.assignee is not None and e.assignee.id == owner.id))
        ]

    def overdue(self, project: Project | None = None, owner: User | None = None) -> list[Entry]:
        """The open tasks past their due date (of one project, of one person), most overdue first."""
        late = [e for e in self.open_tasks(project, owner) if e.task.is_overdue(self.now)]
        return sorted(late, key=lambda e: e.task.date_due or self.now)

    def search(self, query: Query, *, project: Project | None = None) -> list[Hit]:
        """Tasks passing the filters, best match first when there are words, else by id."""
        keep = [i for i, e in enumerate(self.entries) if self._passes(e, query, project)]
        wanted = list(dict.fromkeys(stems(query.words)))
        if not wanted:
            return [Hit(self.entries[i], 0.0, frozenset()) for i in keep]
        n = len(self.entries) or 1
        average = sum(sum(bag.values()) for bag in self._bags) / n or 1.0
        hits = []
        for i in keep:
            bag = self._bags[i]
            length = sum(bag.values())
            score, matched = 0.0, set()
            for stem in wanted:
                tf = bag.get(stem, 0)
                if not tf:
                    continue
                matched.add(stem)
                idf = math.log(1 + (n - self._df[stem] + 0.5) / (self._df[stem] + 0.5))
                score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average))
            if matched:
                hits.append(Hit(self.entries[i], score, frozenset(matched)))
        return sorted(hits, key=lambda h: (-h.score, h.entry.task.id))

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` that no task on the board holds, nor a word starting alike
        ("certificate" is known where a task says "cert"); stemmed, no function words; in order."""
        prefixes = {stem[:4] for stem in self._df if len(stem) >= 4}

        def known(stem: str) -> bool:
            return bool(self._df[stem]) or (len(stem) >= 4 and stem[:4] in prefixes)

        typed = [w for w in words(text) if stems(w)]
        return [w for w in dict.fromkeys(typed) if not any(known(s) for s in stems(w))]

    def _passes(self, entry: Entry, query: Query, project: Project | None) -> bool:
        if project is not None and entry.project.id != project.id:
            return False
        status = query.status
        if status != "all" and entry.is_open != (status == "open"):
            return False
        checks: dict[str, Callable[[Entry, str], bool]] = {
            "tag": lambda e, v: v.casefold() in {t.casefold() for t in e.extras.tags},
            "assignee": _assignee_is,
            "column": lambda e, v: v.casefold() in e.column.casefold(),
            "project": lambda e, v: (
                v.casefold() in {e.project.name.casefold(), e.project.identifier.casefold()}
                or (v.isdigit() and int(v) == e.project.id)
            ),
            "category": lambda e, v: v.casefold() in e.category.casefold(),
            "swimlane": lambda e, v: v.casefold() in e.swimlane.casefold(),
            "priority": _priority_is,
            "due": lambda e, v: self._due_is(e, v),
        }
        for key, values in query.filters.items():
            check = checks.get(key)
            if check is not None and not any(check(entry, value) for value in values):
                return False
        return True

    def _due_is(self, entry: Entry, value: str) -> bool:
        due = entry.task.date_due
        if due is None:
            return value.casefold() in {"none", "no"}
        day = due.astimezone(self.tz).date()
        today = self.today()
        named = {
            "today": today,
            "tomorrow": today + timedelta(days=1),
            "yesterday": today - timedelta(days=1),
        }
        match = re.fullmatch(r"(<=|>=|<|>)?(.+)", value.strip().casefold())
        assert match is not None
        op, when = match.group(1) or "", match.group(2)
        if when == "overdue":
            return entry.task.is_overdue(self.now)
        try:
            target = named[when] if when in named else date.fromisoformat(when)
        except ValueError:
            return False
        return {
            "": day == target,
            "<": day < target,
            "<=": day <= target,
            ">": day > target,
            ">=": day >= target,
        }[op]


def _assignee_is(entry: Entry, value: str) -> bool:
    wanted = value.casefold()
    if wanted in {"nobody", "none", "unassigned"}:
        return entry.assignee is None
    user = entry.assignee
    if user is None:
        return False
    return (
        (wanted.isdigit() and int(wanted) == user.id)
        or wanted in {user.username.casefold(), user.name.casefold()}
        or same_person(value, user)  # whole words: assignee:sam is not Samantha
    )


def _by_title(text: str, entries: list[Entry]) -> Entry | None:
    """The one task whose title is `text`, holds it, or holds every word of it; None if none;
    an error naming them when several do."""
    wanted = text.strip().casefold()
    exact = [e for e in entries if e.task.title.casefold() == wanted]
    partial = exact or [e for e in entries if wanted and wanted in e.task.title.casefold()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        listed = "; ".join(f"#{e.task.id} {e.task.title}" for e in partial[:MAX_LISTED])
        raise KanboardNotFoundError(
            f'Several tasks match "{text}": {listed}. Ask again with the task\'s #id.'
        )
    every_word = same_words(text, [e.task.title for e in entries], share=1.0)
    if len(every_word) == 1:  # "ZFS disk replacement" -> "Replace failing disk in ZFS pool 'tank'"
        return next(e for e in entries if e.task.title == every_word[0])
    return None


def _priority_is(entry: Entry, value: str) -> bool:
    match = re.fullmatch(r"(<=|>=|<|>)?\s*(\d+)", value.strip())
    if match is None:
        return False
    op, number = match.group(1) or "", int(match.group(2))
    priority = entry.task.priority
    return {
        "": priority == number,
        "<": priority < number,
        "<=": priority <= number,
        ">": priority > number,
        ">=": priority >= number,
    }[op]
