"""The questions: what people ask about the demo board, each with ground truth computed from it.

Every question carries `truth(board) -> Truth` (facts the answer must and must not contain),
computed from a fresh `Board` snapshot because the demo board's dates move with the clock. Write
requests also carry `check(board)`, run on the board after the agent finished, and only run with
`--writes` against a fresh board. Nothing here runs a model or scores an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.kanboard_qa.board import Board
from benchmarks.kanboard_qa.scoring import DONT_KNOW, Fact, Truth, date_fact, normalise, number_fact
from tools.kanboard.models import Task, User

__all__ = [
    "CATEGORIES",
    "QUESTIONS",
    "SMOKE",
    "Question",
    "closed_fact",
    "dont_know",
    "due_fact",
    "late_of",
    "most_overdue",
    "only",
    "owner_fact",
    "person_fact",
    "pick",
    "question",
    "subtask_facts",
    "tagged",
    "task_fact",
]

CATEGORIES = ("lookup", "people", "dates", "details", "aggregate", "multistep", "unanswerable", "write")


@dataclass(frozen=True)
class Question:
    """One benchmark question."""

    id: str
    category: str  # one of CATEGORIES
    text: str
    truth: Callable[[Board], Truth]
    tools: tuple[str, ...] = ()  # the tools that answer it, unprefixed
    check: Callable[[Board], list[str]] | None = None  # writes: problems on the board afterwards

    @property
    def writes(self) -> bool:
        """Whether the question asks for a change to the board."""
        return self.check is not None


def task_fact(task: Task, *, loose: bool = True) -> Fact:
    """A task named by its title, the title's first four words, its last three (loose) or #id."""
    words = normalise(task.title).split()
    spellings = [task.title, " ".join(words[:4]), f"#{task.id}"]
    if loose and len(words) >= 6:
        spellings.append(" ".join(words[-3:]))
    return Fact.of(*spellings, label=f"#{task.id} {task.title}")


def person_fact(user: User) -> Fact:
    """A person by full name, first name or username."""
    first = user.name.split()[0] if user.name else user.username
    return Fact.of(user.name, first, user.username, label=user.name or user.username)


def _tasks(tasks: Sequence[Task]) -> list[Fact]:
    return [task_fact(t) for t in tasks]


def _not(tasks: Sequence[Task]) -> list[Fact]:
    return [task_fact(t, loose=False) for t in tasks]


def only(listed: Sequence[Task], others: Sequence[Task]) -> Truth:
    """Exactly `listed`: all of them named, none of `others`.

    A short spelling two of these tasks share ("Call back about the", the first four words of
    many support tickets on the big board) names neither: it is left out of both.
    """
    ids = {t.id for t in listed}
    required, forbidden = _tasks(listed), _not([t for t in others if t.id not in ids])
    owners: dict[str, set[str]] = {}
    for fact in required + forbidden:
        for spelling in fact.spellings:
            owners.setdefault(normalise(spelling), set()).add(fact.label)

    def unique(fact: Fact) -> Fact:
        return Fact(tuple(s for s in fact.spellings if len(owners[normalise(s)]) == 1), fact.label)

    return Truth(required=[unique(f) for f in required], forbidden=[unique(f) for f in forbidden])


def owner_fact(b: Board, task: Task) -> Fact:
    user = b.owner(task)
    return person_fact(user) if user else Fact.of("nobody", "unassigned", "no one", "not assigned")


def due_fact(b: Board, task: Task) -> Fact:
    day = b.due_day(task)
    assert day is not None, f"task #{task.id} has no due date"
    return date_fact(day, b.today)


def _days_to_due(b: Board, task: Task) -> int | None:
    day = b.due_day(task)
    return None if day is None else (day - b.today).days


def closed_fact(b: Board, task: Task) -> Fact:
    assert task.date_completed is not None, f"task #{task.id} is not closed"
    return date_fact(b.local(task.date_completed).date(), b.today)


def most_overdue(b: Board, project: str | None = None) -> Task:
    """The task longest overdue (in `project`, or anywhere)."""
    return min(b.overdue(project), key=lambda t: t.date_due or b.now)


def late_of(b: Board, username: str) -> list[Task]:
    """The overdue tasks `username` owns."""
    return [t for t in b.overdue() if t.owner_id == b.user(username).id]


def tagged(b: Board, tag: str) -> list[Task]:
    """The tasks tagged `tag`."""
    return [t for t in b.tasks if tag in b.tags[t.id]]


def subtask_facts(b: Board, words: str, done: bool) -> list[Fact]:
    """The done (or open) subtasks of the task titled with `words`."""
    return [Fact.of(s.title) for s in b.subtasks[b.titled(words).id] if (s.status == 2) == done]


def dont_know(b: Board) -> Truth:
    return Truth(required=[DONT_KNOW])


# Questions ----------------------------------------------------------------------------------------


def question(id: str, category: str, text: str, truth: Callable[[Board], Truth], *tools: str) -> Question:
    """A read question, with the tools that answer it."""
    return Question(id=id, category=category, text=text, truth=truth, tools=tools)


_q = question  # short, for the list below


QUESTIONS: list[Question] = [
    # Single lookups
    _q(
        "overdue-homelab",
        "lookup",
        "What's overdue in Homelab?",
        lambda b: only(b.overdue("Homelab"), b.open_tasks("Homelab") + b.overdue()),
        "overdue_tasks",
    ),
    _q(
        "overdue-web",
        "lookup",
        "What is overdue in the Website Redesign project?",
        lambda b: only(b.overdue("Website Redesign"), b.open_tasks("Website Redesign")),
        "overdue_tasks",
    ),
    _q(
        "overdue-all",
        "lookup",
        "Which tasks are overdue, across all projects?",
        lambda b: only(b.overdue(), b.open_tasks()),
        "overdue_tasks",
    ),
    _q(
        "in-progress",
        "lookup",
        "Show me the Homelab board: what is in progress right now?",
        lambda b: only(b.in_column("Homelab", "In Progress"), b.in_column("Homelab", "Backlog")),
        "show_board",
    ),
    _q(
        "waiting-parts",
        "lookup",
        "What is waiting on parts in Homelab?",
        lambda b: only(b.in_column("Homelab", "Waiting on Parts"), b.in_column("Homelab", "Ready")),
        "show_board",
    ),
    _q(
        "projects",
        "lookup",
        "Which projects are there?",
        lambda b: Truth(required=[Fact.of(p.name) for p in b.projects]),
        "list_projects",
    ),
    _q(
        "q4-backlog",
        "lookup",
        "What is in the backlog of Q4 Planning?",
        lambda b: only(b.in_column("Q4 Planning", "Backlog"), b.in_column("Q4 Planning", "Ready")),
        "show_board",
    ),
    _q(
        "tag-zfs",
        "lookup",
        "Find the tasks tagged zfs.",
        lambda b: only([t for t in b.tasks if "zfs" in b.tags[t.id]], b.open_tasks("Homelab")),
        "search_tasks",
    ),
    # People
    _q(
        "dave",
        "people",
        "What is Dave working on?",
        lambda b: only(b.owned_by("dave"), b.owned_by("dave", open_only=False) + b.owned_by("alice")),
        "tasks_of",
    ),
    _q(
        "alice",
        "people",
        "What's on Alice's plate?",
        lambda b: only(b.owned_by("alice"), b.owned_by("bob")),
        "tasks_of",
    ),
    _q(
        "bob",
        "people",
        "Which open tasks does Bob have?",
        lambda b: only(b.owned_by("bob"), b.owned_by("bob", open_only=False) + b.owned_by("dave")),
        "tasks_of",
    ),
    _q(
        "carol-open",
        "people",
        "Which of Carol's tasks are still open?",
        lambda b: only(b.owned_by("carol"), b.owned_by("carol", open_only=False)),
        "tasks_of",
    ),
    _q(
        "vlan-owner",
        "people",
        "Who is assigned to the VLAN segmentation task?",
        lambda b: Truth(required=[owner_fact(b, b.titled("VLAN segmentation"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "tls-owner",
        "people",
        "Who is working on renewing the wildcard TLS cert?",
        lambda b: Truth(required=[owner_fact(b, b.titled("wildcard TLS"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "web-members",
        "people",
        "Who are the members of the Website Redesign project?",
        lambda b: Truth(
            required=[
                person_fact(b.user(u.username))
                for u in b.users
                if u.id in b.members[b.project("Website Redesign").id]
            ],
            forbidden=[
                person_fact(u) for u in b.users if u.id not in b.members[b.project("Website Redesign").id]
            ],
        ),
        "list_people",
    ),
    # Dates relative to today
    _q(
        "k3s-due",
        "dates",
        "When is the k3s upgrade due?",
        lambda b: Truth(required=[due_fact(b, b.titled("k3s cluster"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "domain-due",
        "dates",
        "When does the domain lab.example.net need renewing?",
        lambda b: Truth(required=[due_fact(b, b.titled("Renew domain"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "due-week",
        "dates",
        "What is due in the next 7 days?",
        lambda b: only(
            b.due_within(7),
            [t for t in b.open_tasks() if t not in b.due_within(7) and t.date_due and t.date_due > b.now],
        ),
        "search_tasks",
        "due_soon",
    ),
    _q(
        "due-tomorrow",
        "dates",
        "What is due tomorrow?",
        lambda b: only(
            [t for t in b.open_tasks() if _days_to_due(b, t) == 1],
            b.due_within(7),
        ),
        "search_tasks",
        "due_soon",
    ),
    _q(
        "kuma-done",
        "dates",
        "When was the Uptime Kuma monitoring deployed (the task closed)?",
        lambda b: Truth(required=[closed_fact(b, b.titled("Uptime Kuma"))]),
        "search_tasks",
        "get_task",
    ),
    # Comments, subtasks, descriptions, links
    _q(
        "zfs-comment",
        "details",
        "What's the latest comment on the ZFS disk replacement?",
        lambda b: Truth(required=[Fact.of("41%", "41 %", "41 percent")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "vlan-subtasks",
        "details",
        "Which subtasks of the VLAN segmentation task are not done yet?",
        lambda b: Truth(
            required=[
                Fact.of(s.title) for s in b.subtasks[b.titled("VLAN segmentation").id] if s.status != 2
            ],
            forbidden=[
                Fact.of(s.title) for s in b.subtasks[b.titled("VLAN segmentation").id] if s.status == 2
            ],
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "wireguard-subtasks",
        "details",
        "What subtasks are left on 'Rotate WireGuard keys'?",
        lambda b: Truth(
            required=[Fact.of(s.title) for s in b.subtasks[b.titled("WireGuard").id] if s.status != 2]
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "pbs-comment",
        "details",
        "On the failing disk task, when did Bob say the PBS job finished?",
        lambda b: Truth(required=[Fact.of("02:14", "2:14", "0214", "2 14 am", "2 14am")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "opnsense-late",
        "details",
        "Why is the OPNsense router replacement late?",
        lambda b: Truth(required=[Fact.of("shipping", "delayed", "delay", "next week", "on order")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "nextcloud-blocked",
        "details",
        "What is blocking the Nextcloud restore test?",
        lambda b: Truth(required=[task_fact(b.titled("failing disk"))]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "plausible-desc",
        "details",
        "What does the Plausible analytics task say about cookies?",
        lambda b: Truth(
            required=[
                Fact.of(
                    "no cookies",
                    "without cookies",
                    "cookie banner",
                    "no banner",
                    "doesnt use cookies",
                    "does not use cookies",
                )
            ]
        ),
        "get_task",
        "search_tasks",
    ),
    # Counts and comparisons
    _q(
        "count-homelab",
        "aggregate",
        "How many open tasks does Homelab have?",
        lambda b: Truth(required=[number_fact(len(b.open_tasks("Homelab")))]),
        "list_projects",
    ),
    _q(
        "most-overdue",
        "aggregate",
        "Which project has the most overdue tasks?",
        lambda b: Truth(required=[Fact.of(max(b.projects, key=lambda p: len(b.overdue(p.name))).name)]),
        "list_projects",
    ),
    _q(
        "count-overdue",
        "aggregate",
        "How many overdue tasks are there in total?",
        lambda b: Truth(required=[number_fact(len(b.overdue()))]),
        "list_projects",
        "overdue_tasks",
    ),
    _q(
        "alice-vs-dave",
        "aggregate",
        "Who has more open tasks, Alice or Dave?",
        lambda b: Truth(
            required=[
                person_fact(b.user(max(("alice", "dave"), key=lambda u: len(b.owned_by(u))))),
                number_fact(max(len(b.owned_by("alice")), len(b.owned_by("dave")))),
            ]
        ),
        "tasks_of",
        "list_people",
    ),
    _q(
        "q4-counts",
        "aggregate",
        "How many open tasks does Q4 Planning have, and how many of them are overdue?",
        lambda b: Truth(
            required=[
                number_fact(len(b.open_tasks("Q4 Planning"))),
                number_fact(len(b.overdue("Q4 Planning"))),
            ]
        ),
        "list_projects",
    ),
    _q(
        "busiest",
        "aggregate",
        "Which person has the most open tasks?",
        lambda b: Truth(required=[person_fact(max(b.users, key=lambda u: len(b.owned_by(u.username))))]),
        "list_people",
        "tasks_of",
        "search_tasks",
    ),
    # Several steps
    _q(
        "blocker-owner",
        "multistep",
        "Who owns the task that blocks the Nextcloud restore test, and when is it due?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("failing disk")), due_fact(b, b.titled("failing disk"))]
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "oldest-overdue",
        "multistep",
        "What is the most overdue task, and who is it assigned to?",
        lambda b: Truth(
            required=[
                task_fact(most_overdue(b)),
                owner_fact(b, most_overdue(b)),
            ]
        ),
        "overdue_tasks",
    ),
    _q(
        "dave-overdue",
        "multistep",
        "Which of Dave's Homelab tasks are overdue?",
        lambda b: only([t for t in b.overdue("Homelab") if t.owner_id == b.user("dave").id], b.overdue()),
        "tasks_of",
        "overdue_tasks",
    ),
    _q(
        "alice-overdue",
        "multistep",
        "Which of Alice's tasks are overdue?",
        lambda b: only([t for t in b.overdue() if t.owner_id == b.user("alice").id], b.overdue()),
        "tasks_of",
        "overdue_tasks",
    ),
    _q(
        "tls-status",
        "multistep",
        "Is the wildcard TLS cert renewal overdue, and what was the last comment on it?",
        lambda b: Truth(
            required=[Fact.of("overdue", "past due", "late", "was due", "yes"), Fact.of("cloudflare")]
        ),
        "get_task",
        "search_tasks",
    ),
    # The tools cannot answer these: the agent should say it does not know
    _q("no-task", "unanswerable", "When is the etcd snapshot task due?", dont_know, "search_tasks"),
    _q("no-person", "unanswerable", "What is Frank working on?", dont_know, "tasks_of"),
    _q(
        "no-project",
        "unanswerable",
        "What's the budget of the Mars Colony project?",
        dont_know,
        "list_projects",
        "search_tasks",
    ),
    _q(
        "no-secret",
        "unanswerable",
        "What is the Wi-Fi password of the IoT network?",
        dont_know,
        "search_tasks",
    ),
]


def _task_where(b: Board, words: str) -> Task | None:
    found = [t for t in b.tasks if words.lower() in t.title.lower()]
    return found[-1] if found else None


def _created(b: Board) -> list[str]:
    task = _task_where(b, "UPS battery")
    if task is None:
        return ["no task with 'UPS battery' in its title"]
    return [] if task.project_id == b.project("Homelab").id else ["created in the wrong project"]


def _commented(b: Board) -> list[str]:
    comments = b.comments[b.titled("OPNsense").id]
    return [] if any("arrived" in c.comment.lower() for c in comments) else ["no comment saying it arrived"]


def _closed(b: Board) -> list[str]:
    return [] if not b.titled("WireGuard").is_active else ["the WireGuard task is still open"]


def _moved(b: Board) -> list[str]:
    task = b.titled("Home Assistant Yellow")
    return [] if b.columns[task.column_id].title == "Ready" else [f"in {b.columns[task.column_id].title}"]


def _assigned(b: Board) -> list[str]:
    return [] if b.titled("NetBox").owner_id == b.user("dave").id else ["NetBox task not assigned to Dave"]


def _w(id: str, text: str, check: Callable[[Board], list[str]], *tools: str) -> Question:
    return Question(id=id, category="write", text=text, truth=lambda b: Truth(), tools=tools, check=check)


QUESTIONS += [
    _w("write-create", "Create a task 'Replace UPS battery' in Homelab.", _created, "create_task"),
    _w(
        "write-comment",
        "Add a comment to the OPNsense task saying the router arrived.",
        _commented,
        "add_comment",
    ),
    _w("write-close", "Close the task about rotating the WireGuard keys.", _closed, "close_task"),
    _w("write-move", "Move 'Install Home Assistant Yellow' to Ready.", _moved, "move_task"),
    _w("write-assign", "Assign 'Document the network in NetBox' to Dave.", _assigned, "update_task"),
]

SMOKE = ("overdue-homelab", "dave", "projects", "vlan-owner", "no-person")
"""Five questions the 0.5B model can answer, for the CI smoke test."""


def pick(
    questions: Sequence[Question], *, subset: int | None = None, ids: Sequence[str] = (), writes: bool = False
) -> list[Question]:
    """The questions to run: by id, else `subset` of them spread over the categories (round robin)."""
    pool = [q for q in questions if writes or not q.writes]
    if ids:
        by_id = {q.id: q for q in pool}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise KeyError(f"unknown question ids: {', '.join(unknown)}")
        return [by_id[i] for i in ids]
    if subset is None or subset >= len(pool):
        return pool
    groups = [[q for q in pool if q.category == c] for c in CATEGORIES]
    chosen: list[Question] = []
    while len(chosen) < subset:
        for group in groups:
            if group and len(chosen) < subset:
                chosen.append(group.pop(0))
    return chosen
