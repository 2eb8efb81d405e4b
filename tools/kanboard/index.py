"""The whole board in one snapshot, searchable by words: every task with the text around it.

`BoardIndex.load` reads, in a handful of batched JSON-RPC requests, the projects, people, columns,
swimlanes and categories, and every task this user can see (open and closed) with its comments,
subtasks, tags and links. Given the `previous` index it refreshes instead: every task's row again
(one batch), but comments, subtasks, tags and links only for the tasks that are new or whose
`date_modification` moved; the others keep theirs (and their search terms), so a refresh of a
1,000-task board reads a few tasks' details, not a thousand. Kanboard does not move a task's
`date_modification` for a new comment or subtask, so the caller rebuilds in full now and then
(`Access`, `index_full_s`). `search` keeps the tasks that pass Kanboard-style filters
(`tag:zfs status:closed assignee:bob due:tomorrow`) and ranks them against the remaining words:
BM25 over stemmed words, the title and tags weighted up, so a word in a comment or a description
finds its task. `snippet` picks the line of a task that matched best.

It formats nothing (`format`), chooses no tool (`server`) and caches nothing itself (the server
keeps an index for a few seconds).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import snowballstemmer

from .client import KanboardClient
from .models import Project, Task, TaskExtras, User
from .resolve import same_person

__all__ = ["BoardIndex", "Entry", "Hit", "Query", "parse_query", "stems"]

_WORD = re.compile(r"[^\W_]+(?:[-.'][^\W_]+)*", re.UNICODE)
_FILTER = re.compile(r'(?<!\S)(\w+):("[^"]*"|\S+)')
_STEMMER = snowballstemmer.stemmer("english")
# Words that say what to show about a task rather than which task: they must not pick the task.
_STOP = frozenset(
    (
        "a", "about", "after", "all", "also", "am", "an", "and", "any", "anything", "are", "as", "at", "be",
        "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "for",
        "from", "get", "give", "got", "has", "have", "having", "he", "her", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "just", "let", "list", "me", "my", "of", "on", "or", "our", "please",
        "right", "said", "say", "says", "she", "should", "show", "so", "some", "tell", "than", "that", "the",
        "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was", "we",
        "were", "what", "whats", "when", "where", "which", "while", "who", "whom", "whose", "why", "will",
        "with", "would", "you", "your", "yet", "still", "now", "currently", "task", "tasks", "ticket",
        "tickets", "card", "cards", "item", "items", "thing", "things", "comment", "comments", "description",
        "subtask", "subtasks", "project", "projects", "board", "column", "status", "latest", "last", "recent",
        "newest", "mention", "mentions", "mentioned", "assigned", "assignee", "owner", "owns", "owned",
        "working", "work", "due", "date", "dates", "deadline", "anyone", "someone", "somebody", "find",
        "search", "look",
    )
)  # fmt: skip
_FIELDS = ("status", "tag", "assignee", "column", "project", "due", "category", "swimlane", "priority")
_WEIGHTS = {"title": 3, "tags": 2, "names": 1, "description": 1, "comments": 1, "subtasks": 1, "links": 1}
_K1, _B = 1.2, 0.75


def stems(text: str) -> list[str]:
    """The stemmed words of `text` that can pick a task (no function words), in order."""
    words = [w.casefold().replace("'", "") for w in _WORD.findall(text)]
    kept = [w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return list(_STEMMER.stemWords(kept))


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
    columns: dict[int, list[str]] = field(default_factory=dict)  # project id -> column titles, in order
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
            columns, lanes, categories = layouts[project.id]
            entries.append(
                Entry(
                    task=task,
                    project=project,
                    column=next((c.title for c in columns if c.id == task.column_id), ""),
                    swimlane=next((s.name for s in lanes if s.id == task.swimlane_id), ""),
                    category=categories.get(task.category_id, ""),
                    assignee=by_user.get(task.owner_id),
                    creator=by_user.get(task.creator_id),
                    extras=extras.get(task.id, TaskExtras()),
                )
            )
        titles = {pid: [c.title for c in layout[0]] for pid, layout in layouts.items()}
        terms: dict[int, Counter[str]] = {}
        if previous is not None:  # an entry with the same task, names and details keeps its terms
            old = {e.task.id: (e, bag) for e, bag in zip(previous.entries, previous._bags, strict=True)}
            for entry in entries:
                was = old.get(entry.task.id)
                if was is not None and was[0] == entry:
                    terms[entry.task.id] = was[1]
        reused = len(tasks) - len(stale) if previous is not None else 0
        return cls(list(projects), list(users), entries, tz, now, titles, reused=reused, known_terms=terms)

    def today(self) -> date:
        """Today in Kanboard's timezone."""
        return self.now.astimezone(self.tz).date()

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

        words = [w for w in _WORD.findall(text) if stems(w)]
        return [w for w in dict.fromkeys(words) if not any(known(s) for s in stems(w))]

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
            return entry.is_open and due <= self.now
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


def snippet(entry: Entry, query: Query, tz: ZoneInfo) -> str:
    """The line of `entry` (outside its title) holding most of the query's words, quoted; "" if none."""
    wanted = set(stems(query.words))
    if not wanted:
        return ""
    candidates: list[tuple[str, str]] = []
    for line in entry.task.description.splitlines():
        candidates.append(("description", line))
    for comment in entry.extras.comments:
        who = comment.name or comment.username or "someone"
        when = comment.date_creation.astimezone(tz).strftime("%Y-%m-%d") if comment.date_creation else ""
        candidates.append((f"comment by {who} {when}".strip(), comment.comment))
    for subtask in entry.extras.subtasks:
        candidates.append(("subtask", subtask.title))
    for link in entry.extras.links:
        candidates.append(("link", f"{link.label} #{link.task_id} {link.title}"))
    best, best_score = "", 0
    for where, text in candidates:
        score = len(wanted & set(stems(text)))
        if score > best_score or (score == best_score and score and where.startswith("comment")):
            best, best_score = f'{where}: "{" ".join(text.split())[:200]}"', score
    return best
