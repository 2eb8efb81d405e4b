"""Compact text for a small model: what each tool shows, with names instead of ids and dates in
Kanboard's timezone. All the text the Kanboard tools answer with is written here.

Pure functions from models and index entries to strings; nothing here calls Kanboard, finds a
name (`index`) or decides what is overdue (`Task.is_overdue`). Task descriptions and comments are
quoted as data (each line behind "> ") so a model reads them as content, not instructions.
Password hashes cannot appear: `User` has no such field. The demo board's banner is added in one
place, `labelled`, to every answer of a server serving the demo board.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .index import BoardIndex, Entry, Hit, Query
from .models import BoardSwimlane, Project, Task, User
from .words import stems

__all__ = [
    "DEMO_BANNER",
    "assignee",
    "board",
    "column",
    "count",
    "date",
    "due",
    "due_soon",
    "labelled",
    "mentions",
    "overdue",
    "people_with_counts",
    "priority",
    "projects",
    "search_answer",
    "snippet",
    "task_detail",
    "task_guess",
    "task_line",
    "task_list",
    "tasks_of",
]

DEMO_BANNER = "DEMO BOARD (no KANBOARD_URL set): sample data, not your Kanboard."
_MAX_LINES = 40
_MAX_TEXT = 1500
_PRIORITY = {0: "", 1: "low", 2: "medium", 3: "high"}
_LISTED = 25  # task lines in one search answer
_CLEAR_LEAD = 1.25  # the best match is shown in full when it scores this much above the next
_OTHERS = 3  # matches listed after a best match shown in full, if they score half as well


def labelled(text: str) -> str:
    """An answer from the demo board: the banner first, so no one takes it for their Kanboard."""
    return f"{DEMO_BANNER}\n{text}"


def date(when: datetime | None, tz: ZoneInfo) -> str:
    """ISO date in Kanboard's timezone, with HH:MM unless it is midnight; "" for no date."""
    if when is None:
        return ""
    local = when.astimezone(tz)
    return (
        local.strftime("%Y-%m-%d")
        if (local.hour, local.minute) == (0, 0)
        else local.strftime("%Y-%m-%d %H:%M")
    )


def _late(due: datetime, now: datetime, tz: ZoneInfo) -> str:
    days = (now.astimezone(tz).date() - due.astimezone(tz).date()).days
    return "due today" if days <= 0 else f"{days} day{'s' if days != 1 else ''} late"


def due(task: Task, now: datetime, tz: ZoneInfo) -> str:
    """ "due 2026-11-19, 2 days late" / "due today 17:00" / "due 2026-12-02, tomorrow" / "in 5 days";
    "" for a task with no due date."""
    if task.date_due is None:
        return ""
    when = task.date_due
    day = date(when, tz)
    if not task.is_active:
        return f"was due {day}"
    days = (when.astimezone(tz).date() - now.astimezone(tz).date()).days
    if task.is_overdue(now):
        return (
            f"due {day}, OVERDUE by {-days} day{'s' if days != -1 else ''}"
            if days < 0
            else f"due {day}, OVERDUE (today)"
        )
    if days == 0:
        return f"due {day}, today"
    return f"due {day}, " + ("tomorrow" if days == 1 else f"in {days} days")


def priority(task: Task) -> str:
    """ "priority high" for Kanboard's 1-3, "" for the default 0."""
    label = _PRIORITY.get(task.priority, str(task.priority))
    return f"priority {label}" if label else ""


def assignee(name: str | None) -> str:
    """Who a task is assigned to, said plainly."""
    return f"assigned to {name}" if name else "assigned to nobody"


def task_line(task: Task, tz: ZoneInfo, now: datetime, *, project: bool = True, column: bool = True) -> str:
    """One line: `#id title [column, project] - assigned to X - due ..., N days late - priority high`."""
    where = [task.column_name] if column and task.column_name else []
    if project and task.project_name:
        where.append(task.project_name)
    parts = [f"#{task.id} {task.title}" + (f" [{', '.join(where)}]" if where else "")]
    parts.append(assignee(task.assignee_name or task.assignee_username))
    if task.date_due is not None:
        parts.append(due(task, now, tz))
    if priority(task):
        parts.append(priority(task))
    if not task.is_active:
        parts.append(f"CLOSED {date(task.date_completed, tz)}".strip())
    return " - ".join(parts)


def count(n: int, noun: str) -> str:
    """ "1 task", "3 tasks"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _capped(lines: list[str], noun: str) -> list[str]:
    if len(lines) <= _MAX_LINES:
        return lines
    return [*lines[:_MAX_LINES], f"... and {len(lines) - _MAX_LINES} more {noun}; narrow the query"]


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + " [...]"
    return "\n".join("> " + line for line in text.splitlines())


def projects(items: Sequence[Project], open_tasks: Sequence[Entry], now: datetime) -> str:
    """The projects overview, most overdue first (then most open): name, counts, description.

    The order answers "which project is furthest behind" on its first line. No line counts the
    projects: small models answered "how many tasks" with it at the top, and "which projects are
    there" with it at the bottom ("There are 3 projects.")."""
    lines = ["Projects, most overdue first (open tasks, overdue tasks):"]
    rows = []
    for project in items:
        tasks = [e.task for e in open_tasks if e.project.id == project.id]
        late = sum(1 for task in tasks if task.is_overdue(now))
        rows.append((late, len(tasks), project))
    for late, opened, project in sorted(rows, key=lambda row: (-row[0], -row[1], row[2].name.casefold())):
        state = "" if project.is_active else ", inactive"
        line = f"- {project.name} (#{project.id}{state}): {opened} open, {late} overdue"
        if project.description:
            line += f". {project.description.strip().splitlines()[0]}"
        lines.append(line)
    return "\n".join(lines)


def board(project: Project, swimlanes: Sequence[BoardSwimlane], tz: ZoneInfo, now: datetime) -> str:
    """A project's board: column names once, then each swimlane's non-empty columns and their tasks."""
    columns = [column.title for column in swimlanes[0].columns] if swimlanes else []
    total = sum(len(column.tasks) for lane in swimlanes for column in lane.columns)
    lines = [f"{project.name} board, open tasks by column (closed tasks are not on the board)."]
    lines.append("Columns: " + ", ".join(columns))
    for lane in swimlanes:
        lane_tasks = [(column.title, task) for column in lane.columns for task in column.tasks]
        if not lane_tasks:
            continue
        lines.append(f"Swimlane {lane.name}:")
        for column_title, task in lane_tasks:
            lines.append(f"- {column_title}: " + task_line(task, tz, now, project=False, column=False))
    lines.append(f"({count(total, 'open task')} on the board)")
    return "\n".join(lines)


def task_list(
    header: str,
    tasks: Sequence[Task],
    tz: ZoneInfo,
    now: datetime,
    *,
    project: bool = True,
    note: str = "",
) -> str:
    """A header line, one line per task, and the count last: small models answer a count given
    first with the count alone, and copy a list given first as a list."""
    if not tasks:
        return f"{header}: none."
    lines = [f"- {task_line(task, tz, now, project=project)}" for task in tasks]
    tail = f"({count(len(tasks), 'task')}{f', {note}' if note else ''})"
    return "\n".join([f"{header}:", *_capped(lines, "tasks"), tail])


def overdue(entries: Sequence[Entry], tz: ZoneInfo, now: datetime, scope: str) -> str:
    """Overdue tasks, in the order given (most overdue first), each with how late it is."""
    today = now.astimezone(tz).strftime("%Y-%m-%d")
    if not entries:
        return f"No overdue tasks {scope} (today is {today})."
    lines = [f"Overdue tasks {scope}, most overdue first (today is {today}):"]
    for entry in entries[:_MAX_LINES]:
        task = _named(entry)
        who = assignee(task.assignee_name)
        where = f" ({task.project_name})" if task.project_name else ""
        when = task.date_due or now
        day = when.astimezone(tz).strftime("%Y-%m-%d")
        lines.append(f"- #{task.id} {task.title}{where} - {who} - due {day}, {_late(when, now, tz)}")
    if len(entries) > _MAX_LINES:
        lines.append(f"... and {len(entries) - _MAX_LINES} more")
    lines.append(f"({count(len(entries), 'overdue task')} {scope})")
    return "\n".join(lines)


def task_detail(entry: Entry, index: BoardIndex) -> str:
    """One task in full, with the names of its project, column, swimlane, category, assignee and
    creator; a link says who has the linked task and when it is due."""
    task, extras, tz, now = entry.task, entry.extras, index.tz, index.now
    names = {
        "project": entry.project.name,
        "column": entry.column,
        "swimlane": entry.swimlane,
        "category": entry.category,
        "assignee": entry.assignee.display if entry.assignee else "",
        "creator": entry.creator.display if entry.creator else "",
    }
    tags, subtasks, comments, links = extras.tags, extras.subtasks, extras.comments, extras.links
    linked = {e.task.id: _named(e) for e in index.entries if e.task.id in {x.task_id for x in links}}
    status = "open" if task.is_active else f"closed {date(task.date_completed, tz)}".strip()
    lines = [f"#{task.id} {task.title}", f"Status: {status}"]
    fields = {
        "Project": names.get("project", ""),
        "Column": names.get("column", ""),
        "Swimlane": names.get("swimlane", ""),
        "Category": names.get("category", ""),
        "Assignee": names.get("assignee", "") or "nobody",
        "Creator": names.get("creator", ""),
        "Priority": _PRIORITY.get(task.priority, str(task.priority)),
        "Reference": task.reference,
        "Started": date(task.date_started, tz),
        "Due": date(task.date_due, tz),
        "Created": date(task.date_creation, tz),
        "Tags": ", ".join(tags),
    }
    if task.date_due is not None:
        fields["Due"] = due(task, now, tz).removeprefix("due ")
    if task.time_estimated or task.time_spent:
        fields["Time"] = f"{task.time_spent or 0:g}h spent of {task.time_estimated or 0:g}h estimated"
    lines += [f"{label}: {value}" for label, value in fields.items() if value]
    if task.description.strip():
        lines += ["Description:", _quote(task.description)]
    if subtasks:  # what is left as a list, what is done on one line: a small model copies the list
        left = [subtask for subtask in subtasks if subtask.status != 2]
        done = [subtask for subtask in subtasks if subtask.status == 2]
        if left:
            lines.append(f"Subtasks left ({len(left)} of {len(subtasks)}):")
        for subtask in left:
            who = subtask.name or subtask.username
            state = "in progress" if subtask.status == 1 else "to do"
            lines.append(f"- {subtask.title} ({state}{f', {who}' if who else ''})")
        if done:
            finished = "; ".join(
                f"{s.title} ({s.name or s.username})" if s.name or s.username else s.title for s in done
            )
            lines.append(f"Subtasks done ({len(done)} of {len(subtasks)}): {finished}")
    if links:
        lines.append("Links:")
        for link in links:
            other = linked.get(link.task_id)
            about = f" ({_linked(other, tz, now)})" if other is not None else ""
            lines.append(f"- {link.label} #{link.task_id} {link.title}{about}")
    if comments:  # newest first: "the latest comment" is the one people ask about
        lines.append(f"Comments ({len(comments)}, newest first):")
        newest = sorted(comments, key=lambda c: c.date_creation.timestamp() if c.date_creation else 0.0)
        for comment in reversed(newest):
            lines.append(
                f"- {comment.name or comment.username or 'someone'}, {date(comment.date_creation, tz)}:"
            )
            lines.append(_quote(comment.comment))
    return "\n".join(lines)


def column(
    project: Project, title: str, swimlanes: Sequence[BoardSwimlane], tz: ZoneInfo, now: datetime
) -> str:
    """The open tasks in one column of a project's board, every swimlane."""
    tasks = [task for lane in swimlanes for col in lane.columns if col.title == title for task in col.tasks]
    return task_list(f"Open tasks in the {title} column of {project.name}", tasks, tz, now, project=False)


def _linked(task: Task, tz: ZoneInfo, now: datetime) -> str:
    """What a linked task's line says about it: status, assignee, due date."""
    parts = ["open" if task.is_active else "closed", assignee(task.assignee_name or task.assignee_username)]
    if task.date_due is not None:
        parts.append(due(task, now, tz))
    return ", ".join(parts)


def people_with_counts(
    project: Project | None, rows: Sequence[tuple[User, Sequence[Entry]]], viewers: set[int], now: datetime
) -> str:
    """People (everyone, or a project's members) with their open and overdue tasks, busiest first."""
    who = f"{project.name} members" if project else "People"
    scope = f" in {project.name}" if project else ""
    counted = [(user, len(mine), sum(e.task.is_overdue(now) for e in mine)) for user, mine in rows]
    lines = [f"{who} ({len(rows)}), with their open tasks{scope}:"]
    for user, open_count, late in sorted(counted, key=lambda row: (-row[1], row[0].display.casefold())):
        extra = " (viewer, cannot be assigned)" if user.id in viewers else ""
        state = ", disabled" if not user.is_active else ""
        lines.append(f"- {user.display}{extra}: {open_count} open, {late} overdue{state}")
    # said outright: asked about someone not listed, small models otherwise give them a row's numbers
    lines.append(
        f"(No one else is a member of {project.name}.)" if project else "(No one else is on this Kanboard.)"
    )
    return "\n".join(lines)


def tasks_of(user: User, project: Project | None, index: BoardIndex) -> str:
    """A person's open tasks (in one project or all), with how many are overdue."""
    mine = index.open_tasks(project, user)
    late = sum(e.task.is_overdue(index.now) for e in mine)
    note = f"{late} of them overdue" if late else "none overdue"
    header = f"Open tasks of {user.display}" + (f" in {project.name}" if project else "")
    return task_list(header, [_named(e) for e in mine], index.tz, index.now, note=note)


def due_soon(entries: Sequence[Entry], days: int, owner: User | None, index: BoardIndex) -> str:
    """Open tasks due within `days` (today is day 0), soonest first as given."""
    window = "today" if days == 0 else "today or tomorrow" if days == 1 else f"in the next {days} days"
    whose = f" of {owner.display}" if owner else ""
    header = f"Open tasks{whose} due {window} (today is {index.today():%A %Y-%m-%d})"
    return task_list(header, [_named(e) for e in entries], index.tz, index.now)


def mentions(why: str, text: str, hits: Sequence[Hit], index: BoardIndex) -> str:
    """Why `text` names nothing, then the first tasks that mention it."""
    lines = [why, f'Tasks that mention "{text}":']
    lines += [f"- {task_line(_named(h.entry), index.tz, index.now)}" for h in hits[:5]]
    return "\n".join(lines)


def task_guess(text: str, entry: Entry, hits: Sequence[Hit]) -> str:
    """The note before a task found by search rather than by name ("" when it was named), one line."""
    if not hits:
        return ""
    others = "; ".join(f"#{h.entry.task.id} {h.entry.task.title}" for h in hits[1:4])
    note = f'"{text}" names no single task; the best match is #{entry.task.id}.'
    return note + (f" Other matches: {others}." if others else "") + "\n"


def search_answer(
    asked: str, query: Query, hits: Sequence[Hit], unknown: Sequence[str], index: BoardIndex
) -> str:
    """A search's answer. Filters alone: the open tasks that pass (closed ones counted). Words:
    the best match first, in full when it leads clearly; other closed matches counted, not listed,
    unless asked for. `unknown`: words of the query no task holds (then no task is shown in full)."""
    if not hits:
        return f'No task matches "{asked}".'
    tz, now = index.tz, index.now
    if not query.words:
        if query.status != "all":
            return task_list(f'Tasks matching "{asked}"', [_named(h.entry) for h in hits][:_LISTED], tz, now)
        shown = [_named(h.entry) for h in hits if h.entry.is_open][:_LISTED]
        closed = sum(not h.entry.is_open for h in hits)
        note = f"{count(closed, 'closed task')} also match: add status:closed to list them" if closed else ""
        return task_list(f'Open tasks matching "{asked}"', shown, tz, now, note=note)
    best, rest = hits[0], hits[1:]
    if unknown:  # no best match to show in full: small models answer from it as if it were the task
        listed = [h for h in hits if h.entry.is_open][:_OTHERS] or list(hits[:_OTHERS])
        quoted = " or ".join(f'"{w}"' for w in unknown)
        head = f"No task mentions {quoted}. Tasks with the other words (maybe not the one asked):"
        return "\n".join([head, *(_hit_line(h, query, index) for h in listed)])
    if not rest or best.score >= _CLEAR_LEAD * rest[0].score:  # one clear answer: it, in full
        close = [h for h in rest if h.entry.is_open and h.score >= best.score / 2][:_OTHERS]
        lines = [f'Best match for "{asked}":', task_detail(best.entry, index)]
        if close:
            lines += ["Other matches:", *(_hit_line(h, query, index) for h in close)]
        more = len(rest) - len(close)
        if more:
            lines.append(f"({count(more, 'weaker match')} not shown.)")
        return "\n".join(lines)
    listed = [h for h in hits if h.entry.is_open or h is best or query.status != "all"][:_LISTED]
    lines = [f'{len(hits)} tasks match "{asked}", best first:', *(_hit_line(h, query, index) for h in listed)]
    closed = sum(h not in listed and not h.entry.is_open for h in hits)
    tail = f"\n({count(closed, 'closed task')} also match: add status:closed to list them.)" if closed else ""
    return "\n".join(lines) + tail


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


def _hit_line(hit: Hit, query: Query, index: BoardIndex) -> str:
    """A matching task's line, and the line that matched when its title does not hold the words."""
    line = f"- {task_line(_named(hit.entry), index.tz, index.now)}"
    if not hit.matched <= set(stems(hit.entry.task.title)):
        found = snippet(hit.entry, query, index.tz)
        if found:
            line += f"\n  {found}"
    return line


def _named(entry: Entry) -> Task:
    """The entry's task with the names a task line shows."""
    user = entry.assignee
    return entry.task.model_copy(
        update={
            "project_name": entry.project.name,
            "column_name": entry.column,
            "assignee_name": user.name or user.username if user else None,
        }
    )
