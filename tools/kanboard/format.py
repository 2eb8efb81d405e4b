"""Compact text for a small model: what each tool shows, with names instead of ids and dates in
Kanboard's timezone.

Pure functions from models to strings; nothing here calls Kanboard. Task descriptions and comments
are quoted as data (each line behind "> ") so a model reads them as content, not instructions.
Password hashes cannot appear: `User` has no such field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .models import BoardSwimlane, Comment, Project, Subtask, Task, TaskLink, User

__all__ = [
    "DEMO_BANNER",
    "board",
    "assignee",
    "column",
    "count",
    "date",
    "due",
    "members",
    "people_with_counts",
    "priority",
    "overdue",
    "people",
    "projects",
    "task_detail",
    "task_line",
    "task_list",
]

DEMO_BANNER = "DEMO BOARD (no KANBOARD_URL set): sample data, not your Kanboard."
_MAX_LINES = 40
_MAX_TEXT = 1500
_PRIORITY = {0: "", 1: "low", 2: "medium", 3: "high"}


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


def due(when: datetime, now: datetime, tz: ZoneInfo, *, is_open: bool = True) -> str:
    """ "due 2026-11-19, 2 days late" / "due today 17:00" / "due 2026-12-02, tomorrow" / "in 5 days"."""
    day = date(when, tz)
    if not is_open:
        return f"was due {day}"
    days = (when.astimezone(tz).date() - now.astimezone(tz).date()).days
    if when <= now:
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
        parts.append(due(task.date_due, now, tz, is_open=bool(task.is_active)))
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


def projects(
    items: Sequence[Project], open_tasks: Mapping[int, list[Task]], now: datetime, demo: bool
) -> str:
    """The projects overview, most overdue first (then most open): name, counts, description.

    The order answers "which project is furthest behind" on its first line. No line counts the
    projects: small models answered "how many tasks" with it at the top, and "which projects are
    there" with it at the bottom ("There are 3 projects.")."""
    lines = [DEMO_BANNER] if demo else []
    lines.append("Projects, most overdue first (open tasks, overdue tasks):")
    rows = []
    for project in items:
        tasks = open_tasks.get(project.id, [])
        late = sum(1 for task in tasks if task.date_due is not None and task.date_due <= now)
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


def overdue(tasks: Sequence[Task], tz: ZoneInfo, now: datetime, scope: str) -> str:
    """Overdue tasks, most overdue first, each with how late it is."""
    today = now.astimezone(tz).strftime("%Y-%m-%d")
    if not tasks:
        return f"No overdue tasks {scope} (today is {today})."
    ordered = sorted(tasks, key=lambda task: task.date_due or now)
    lines = [f"Overdue tasks {scope}, most overdue first (today is {today}):"]
    for task in ordered[:_MAX_LINES]:
        who = assignee(task.assignee_name or task.assignee_username)
        where = f" ({task.project_name})" if task.project_name else ""
        when = task.date_due or now
        day = when.astimezone(tz).strftime("%Y-%m-%d")
        lines.append(f"- #{task.id} {task.title}{where} - {who} - due {day}, {_late(when, now, tz)}")
    if len(ordered) > _MAX_LINES:
        lines.append(f"... and {len(ordered) - _MAX_LINES} more")
    lines.append(f"({count(len(ordered), 'overdue task')} {scope})")
    return "\n".join(lines)


def task_detail(
    task: Task,
    *,
    names: Mapping[str, str],
    tags: Sequence[str],
    subtasks: Sequence[Subtask],
    comments: Sequence[Comment],
    links: Sequence[TaskLink],
    tz: ZoneInfo,
    now: datetime,
    linked: Mapping[int, Task] | None = None,
) -> str:
    """One task in full. `names` holds project, column, swimlane, category, assignee and creator;
    `linked` the tasks its links point to, so a link says who has that task and when it is due."""
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
        fields["Due"] = due(task.date_due, now, tz, is_open=bool(task.is_active)).removeprefix("due ")
    if task.time_estimated or task.time_spent:
        fields["Time"] = f"{task.time_spent or 0:g}h spent of {task.time_estimated or 0:g}h estimated"
    lines += [f"{label}: {value}" for label, value in fields.items() if value]
    if task.description.strip():
        lines += ["Description:", _quote(task.description)]
    if subtasks:
        done = sum(1 for subtask in subtasks if subtask.status == 2)
        lines.append(f"Subtasks ({done}/{len(subtasks)} done):")
        states = {0: "to do", 1: "in progress", 2: "done"}  # words: small models misread [x] and [ ]
        for subtask in subtasks:
            who = f", {subtask.name or subtask.username}" if subtask.name or subtask.username else ""
            lines.append(f"- {subtask.title} ({states.get(subtask.status, 'to do')}{who})")
    if links:
        lines.append("Links:")
        for link in links:
            other = (linked or {}).get(link.task_id)
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
        parts.append(due(task.date_due, now, tz, is_open=bool(task.is_active)))
    return ", ".join(parts)


def people_with_counts(
    project: Project | None, rows: Sequence[tuple[User, int, int]], viewers: set[int]
) -> str:
    """People (everyone, or a project's members) with their open and overdue tasks, busiest first."""
    who = f"{project.name} members" if project else "People"
    scope = f" in {project.name}" if project else ""
    lines = [f"{who} ({len(rows)}), with their open tasks{scope}:"]
    for user, open_count, late in sorted(rows, key=lambda row: (-row[1], row[0].display.casefold())):
        extra = " (viewer, cannot be assigned)" if user.id in viewers else ""
        state = ", disabled" if not user.is_active else ""
        lines.append(f"- {user.display}{extra}: {open_count} open, {late} overdue{state}")
    # said outright: asked about someone not listed, small models otherwise give them a row's numbers
    lines.append(
        f"(No one else is a member of {project.name}.)" if project else "(No one else is on this Kanboard.)"
    )
    return "\n".join(lines)


def people(users: Sequence[User]) -> str:
    """Everyone: display name, username and role."""
    lines = [f"{len(users)} people:"]
    for user in sorted(users, key=lambda user: user.display.casefold()):
        extra = [user.role] if user.role else []
        if not user.is_active:
            extra.append("disabled")
        lines.append(f"- {user.display}" + (f": {', '.join(extra)}" if extra else ""))
    return "\n".join(lines)


def members(
    project: Project, member_names: Mapping[int, str], assignable: Mapping[int, str], users: Sequence[User]
) -> str:
    """A project's members; those who cannot be assigned tasks (viewers) are marked."""
    by_id = {user.id: user for user in users}
    lines = [f"{project.name} members ({len(member_names)}):"]
    for user_id, name in sorted(member_names.items(), key=lambda item: item[1].casefold()):
        user = by_id.get(user_id)
        label = user.display if user else name
        lines.append(f"- {label}" + ("" if user_id in assignable else " (viewer, cannot be assigned)"))
    return "\n".join(lines)
