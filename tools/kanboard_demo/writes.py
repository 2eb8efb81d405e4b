"""The write procedures of the demo board, refusing what Kanboard refuses with `false`.

createTask/updateTask reject empty titles, owners who cannot be assigned in the project, unix
timestamps as dates and a start after the due date; a bare "Y-m-d" takes the current time of day.
moveTaskPosition refuses a column or swimlane of another project; closeTask on a closed task is
true; openTask sets date_completed to 0; createComment as someone else (user API) is false.
"""

from __future__ import annotations

from typing import Any

from .board import DemoBoard, Row, as_int
from .reads import get_active_swimlanes, get_columns
from .rpc import Caller

__all__ = [
    "close_task",
    "create_comment",
    "create_subtask",
    "create_task",
    "move_task_position",
    "open_task",
    "update_task",
]


def _assignable(board: DemoBoard, project: Row, user_id: int | None) -> bool:
    return not user_id or str(user_id) in board.members(project, assignable=True)


def create_task(
    board: DemoBoard,
    caller: Caller,
    title: Any,
    project_id: Any,
    color_id: Any = "",
    column_id: Any = 0,
    owner_id: Any = 0,
    creator_id: Any = 0,
    date_due: Any = "",
    description: Any = "",
    category_id: Any = 0,
    score: Any = 0,
    swimlane_id: Any = None,
    priority: Any = 0,
    reference: Any = "",
    tags: Any = (),
    date_started: Any = "",
) -> int | bool:
    project = board.project(project_id)
    due, started = board.parse_date(date_due), board.parse_date(date_started)
    owner = as_int(owner_id) or 0
    if project is None or not str(title).strip() or due is None or started is None:
        return False
    if not _assignable(board, project, owner) or (started and due and started > due):
        return False
    columns = get_columns(board, caller, project["id"])
    lanes = get_active_swimlanes(board, caller, project["id"])
    column = as_int(column_id) or columns[0]["id"]
    lane = as_int(swimlane_id) or lanes[0]["id"]
    if column not in {c["id"] for c in columns} or lane not in {s["id"] for s in lanes}:
        return False
    now = int(board.clock())
    task_id = board.next_id("tasks")
    board.tasks[task_id] = {
        "id": task_id,
        "project_id": project["id"],
        "column_id": column,
        "swimlane_id": lane,
        "owner_id": owner,
        "creator_id": as_int(creator_id) or caller.user_id or 0,
        "category_id": as_int(category_id) or 0,
        "title": str(title),
        "description": str(description or ""),
        "reference": str(reference or ""),
        "color_id": color_id if color_id in board.colors else "yellow",
        "priority": as_int(priority) or 0,
        "score": as_int(score) or 0,
        "is_active": 1,
        "date_creation": now,
        "date_modification": now,
        "date_moved": now,
        "date_started": started,
        "date_due": due,
        "date_completed": None,
        "time_estimated": None,
        "time_spent": None,
        "tags": _tag_ids(board, project["id"], tags),
        "position": 1
        + sum(1 for t in board.tasks.values() if (t["column_id"], t["swimlane_id"]) == (column, lane)),
    }
    return task_id


def _tag_ids(board: DemoBoard, project_id: int, names: Any) -> list[int]:
    ids = []
    for name in names or ():
        tag = next(
            (t for t in board.tags.values() if t["project_id"] == project_id and t["name"] == name), None
        )
        if tag is None:
            tag = {"id": board.next_id("tags"), "project_id": project_id, "name": str(name), "color_id": None}
            board.tags[tag["id"]] = tag
        ids.append(tag["id"])
    return ids


def update_task(
    board: DemoBoard,
    caller: Caller,
    id: Any,
    title: Any = None,
    color_id: Any = None,
    owner_id: Any = None,
    date_due: Any = None,
    description: Any = None,
    category_id: Any = None,
    score: Any = None,
    priority: Any = None,
    reference: Any = None,
    tags: Any = None,
    date_started: Any = None,
) -> bool:
    task = board.task(id)
    if task is None:
        return False
    changes: Row = {}
    for key, value in (("title", title), ("description", description), ("reference", reference)):
        if value is not None:
            changes[key] = str(value)
    for key, value in (("category_id", category_id), ("score", score), ("priority", priority)):
        if value is not None:
            changes[key] = as_int(value) or 0
    if color_id is not None:
        changes["color_id"] = color_id if color_id in board.colors else task["color_id"]
    if owner_id is not None:
        owner = as_int(owner_id) or 0
        if not _assignable(board, board.projects[task["project_id"]], owner):
            return False
        changes["owner_id"] = owner
    for key, value in (("date_due", date_due), ("date_started", date_started)):
        if value is not None:
            stamp = board.parse_date(value)
            if stamp is None:
                return False
            changes[key] = stamp
    if "title" in changes and not changes["title"].strip():
        return False
    started, due = (
        changes.get("date_started", task["date_started"]),
        changes.get("date_due", task["date_due"]),
    )
    if started and due and started > due:
        return False
    if tags is not None:
        changes["tags"] = _tag_ids(board, task["project_id"], tags)
    task.update(changes, date_modification=int(board.clock()))
    return True


def move_task_position(
    board: DemoBoard,
    caller: Caller,
    project_id: Any,
    task_id: Any,
    column_id: Any,
    position: Any,
    swimlane_id: Any,
) -> bool:
    task = board.task(task_id)
    column = board.columns.get(as_int(column_id) or 0)
    lane = board.swimlanes.get(as_int(swimlane_id) or 0)
    place = as_int(position) or 0
    if task is None or column is None or lane is None or place < 1:
        return False
    if not task["project_id"] == as_int(project_id) == column["project_id"] == lane["project_id"]:
        return False
    for other in board.tasks.values():
        same_cell = (other["column_id"], other["swimlane_id"]) == (column["id"], lane["id"])
        if other is not task and same_cell and other["position"] >= place:
            other["position"] += 1
    now = int(board.clock())
    task.update(
        column_id=column["id"], swimlane_id=lane["id"], position=place, date_moved=now, date_modification=now
    )
    return True


def close_task(board: DemoBoard, caller: Caller, task_id: Any) -> bool:
    task = board.task(task_id)
    if task is None:
        return False
    if task["is_active"]:
        task.update(is_active=0, date_completed=int(board.clock()))
    return True


def open_task(board: DemoBoard, caller: Caller, task_id: Any) -> bool:
    task = board.task(task_id)
    if task is None:
        return False
    task.update(is_active=1, date_completed=0)
    return True


def create_comment(
    board: DemoBoard,
    caller: Caller,
    task_id: Any,
    user_id: Any,
    content: Any,
    reference: Any = "",
    visibility: Any = "",
) -> int | bool:
    task, author = board.task(task_id), as_int(user_id)
    if task is None or author not in board.users or not str(content).strip():
        return False
    if caller.user_id is not None and author != caller.user_id:
        return False
    now = int(board.clock())
    comment_id = board.next_id("comments")
    board.comments[comment_id] = {
        "id": comment_id,
        "task_id": task["id"],
        "user_id": author,
        "comment": str(content),
        "date_creation": now,
        "date_modification": now,
    }
    return comment_id


def create_subtask(
    board: DemoBoard,
    caller: Caller,
    task_id: Any,
    title: Any,
    user_id: Any = 0,
    time_estimated: Any = 0,
    time_spent: Any = 0,
    status: Any = 0,
) -> int | bool:
    task = board.task(task_id)
    if task is None or not str(title).strip():
        return False
    subtask_id = board.next_id("subtasks")
    board.subtasks[subtask_id] = {
        "id": subtask_id,
        "task_id": task["id"],
        "title": str(title),
        "status": as_int(status) or 0,
        "user_id": as_int(user_id) or 0,
        "time_estimated": time_estimated or 0,
        "time_spent": time_spent or 0,
        "position": 1 + len(board.subtasks_of(task["id"])),
    }
    return subtask_id
