"""The read procedures of the demo board, answering in Kanboard 1.2.53's shapes.

Kanboard's quirks are kept: `false` for an unknown project name, `null` for an unknown task, `[]`
for an unknown project's board and for an empty string-keyed map (PHP's json_encode of an empty
array), and no implicit status filter in searchTasks.
"""

from __future__ import annotations

from typing import Any

from .board import DemoBoard, Row, as_int
from .rpc import Caller
from .search import matches, parse_query

__all__ = [
    "get_active_swimlanes",
    "get_all_categories",
    "get_all_comments",
    "get_all_projects",
    "get_all_subtasks",
    "get_all_swimlanes",
    "get_all_task_links",
    "get_all_tasks",
    "get_all_users",
    "get_assignable_users",
    "get_board",
    "get_color_list",
    "get_columns",
    "get_me",
    "get_my_dashboard",
    "get_my_overdue_tasks",
    "get_my_projects",
    "get_my_projects_list",
    "get_overdue_tasks",
    "get_overdue_tasks_by_project",
    "get_project_by_id",
    "get_project_by_name",
    "get_project_users",
    "get_tags_by_project",
    "get_task",
    "get_task_by_reference",
    "get_task_tags",
    "get_timezone",
    "get_user_by_name",
    "get_version",
    "search_tasks",
]


def _id_map(items: dict[str, str]) -> dict[str, str] | list[Any]:
    """PHP's json_encode of an empty array is `[]`, not `{}`."""
    return items if items else []


# Application -----------------------------------------------------------------------------------


def get_version(board: DemoBoard, caller: Caller) -> str:
    return board.version


def get_timezone(board: DemoBoard, caller: Caller) -> str:
    return board.timezone


def get_color_list(board: DemoBoard, caller: Caller) -> dict[str, str]:
    return {color_id: names[0] for color_id, names in board.colors.items()}


# Projects --------------------------------------------------------------------------------------


def get_all_projects(board: DemoBoard, caller: Caller) -> list[Row]:
    return [board.project_row(p) for p in sorted(board.projects.values(), key=lambda p: p["name"].casefold())]


def get_project_by_id(board: DemoBoard, caller: Caller, project_id: Any) -> Row | None:
    project = board.project(project_id)
    return board.project_row(project) if project else None


def get_project_by_name(board: DemoBoard, caller: Caller, name: Any) -> Row | bool:
    for project in board.projects.values():
        if project["name"] == name:
            return board.project_row(project)
    return False


def get_project_users(board: DemoBoard, caller: Caller, project_id: Any) -> dict[str, str] | list[Any]:
    project = board.project(project_id)
    return _id_map(board.members(project)) if project else []


def get_assignable_users(
    board: DemoBoard, caller: Caller, project_id: Any, prepend_unassigned: bool = False
) -> dict[str, str] | list[Any]:
    project = board.project(project_id)
    return _id_map(board.members(project, assignable=True)) if project else []


def get_columns(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    columns = [c for c in board.columns.values() if c["project_id"] == as_int(project_id)]
    return [
        {**c, "task_limit": 0, "hide_in_dashboard": 0} for c in sorted(columns, key=lambda c: c["position"])
    ]


def _swimlane_row(lane: Row) -> Row:
    keys = ("id", "name", "position", "is_active", "project_id", "description")
    return {**{key: lane[key] for key in keys}, "task_limit": 0}


def get_all_swimlanes(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    lanes = [s for s in board.swimlanes.values() if s["project_id"] == as_int(project_id)]
    return [_swimlane_row(s) for s in sorted(lanes, key=lambda s: s["position"])]


def get_active_swimlanes(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    return [row for row in get_all_swimlanes(board, caller, project_id) if row["is_active"]]


def get_all_categories(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    rows = [c for c in board.categories.values() if c["project_id"] == as_int(project_id)]
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "project_id": c["project_id"],
            "description": None,
            "color_id": c["color_id"],
        }
        for c in sorted(rows, key=lambda c: c["name"].casefold())
    ]


def get_tags_by_project(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    rows = [t for t in board.tags.values() if t["project_id"] == as_int(project_id)]
    return [dict(t) for t in sorted(rows, key=lambda t: t["name"].casefold())]


def get_board(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    project = board.project(project_id)
    if project is None:
        return []
    columns = get_columns(board, caller, project["id"])
    lanes = get_active_swimlanes(board, caller, project["id"])
    open_tasks = [t for t in board.tasks_of(project["id"]) if t["is_active"]]
    result = []
    for lane in lanes:
        lane_columns = []
        for column in columns:
            in_column = [t for t in open_tasks if t["column_id"] == column["id"]]
            cell = sorted(
                (t for t in in_column if t["swimlane_id"] == lane["id"]), key=lambda t: t["position"]
            )
            tasks = [{**board.search_row(t), "tags": board.tag_rows(t), "is_draggable": False} for t in cell]
            lane_columns.append(
                {
                    **{key: column[key] for key in ("id", "title", "position", "task_limit", "description")},
                    "hide_in_dashboard": 0,
                    "project_id": column["project_id"],
                    "nb_open_tasks": len(in_column),
                    "tasks": tasks,
                    "nb_tasks": len(tasks),
                    "score": sum(t["score"] for t in cell),
                    "column_nb_open_tasks": len(in_column),
                    "nb_visible_tasks_across_swimlane": len(in_column),
                    "nb_unfiltered_tasks_across_swimlane": len(in_column),
                    "cumulative_score_across_swimlane": sum(t["score"] for t in in_column),
                }
            )
        result.append(
            {
                **lane,
                "columns": lane_columns,
                "nb_swimlanes": len(lanes),
                "nb_columns": len(columns),
                "nb_tasks": sum(c["nb_tasks"] for c in lane_columns),
                "score": sum(c["score"] for c in lane_columns),
            }
        )
    return result


# Tasks -----------------------------------------------------------------------------------------


def get_task(board: DemoBoard, caller: Caller, task_id: Any) -> Row | None:
    task = board.task(task_id)
    return board.task_row(task) if task else None


def get_task_by_reference(board: DemoBoard, caller: Caller, project_id: Any, reference: Any) -> Row | None:
    for task in board.tasks_of(as_int(project_id) or 0):
        if task["reference"] and task["reference"] == reference:
            return board.task_row(task)
    return None


def get_all_tasks(board: DemoBoard, caller: Caller, project_id: Any, status_id: Any = 1) -> list[Row]:
    status = as_int(status_id)
    return [board.task_row(t) for t in board.tasks_of(as_int(project_id) or 0) if t["is_active"] == status]


def search_tasks(board: DemoBoard, caller: Caller, project_id: Any, query: Any) -> list[Row]:
    tokens = parse_query(str(query))
    found = [t for t in board.tasks_of(as_int(project_id) or 0) if matches(board, t, tokens, caller.user_id)]
    return [board.search_row(t) for t in found]


def get_overdue_tasks(board: DemoBoard, caller: Caller) -> list[Row]:
    tasks = sorted(board.tasks.values(), key=lambda t: t["id"])
    return [board.overdue_row(t) for t in tasks if board.is_overdue(t)]


def get_overdue_tasks_by_project(board: DemoBoard, caller: Caller, project_id: Any) -> list[Row]:
    tasks = board.tasks_of(as_int(project_id) or 0)
    return [board.overdue_row(t) for t in tasks if board.is_overdue(t)]


def get_task_tags(board: DemoBoard, caller: Caller, task_id: Any) -> dict[str, str] | list[Any]:
    task = board.task(task_id)
    tags = {str(tag_id): board.tags[tag_id]["name"] for tag_id in sorted(task["tags"])} if task else {}
    return _id_map(tags)


def get_all_comments(board: DemoBoard, caller: Caller, task_id: Any) -> list[Row]:
    comments = [c for c in board.comments.values() if c["task_id"] == as_int(task_id)]
    return [board.comment_row(c) for c in sorted(comments, key=lambda c: c["id"])]


def get_all_subtasks(board: DemoBoard, caller: Caller, task_id: Any) -> list[Row]:
    return [board.subtask_row(s) for s in board.subtasks_of(as_int(task_id) or 0)]


def get_all_task_links(board: DemoBoard, caller: Caller, task_id: Any) -> list[Row]:
    links = sorted(
        (x for x in board.links.values() if x["task_id"] == as_int(task_id)), key=lambda x: x["id"]
    )
    rows = []
    for link in links:
        other = board.tasks[link["opposite_task_id"]]
        owner = board.users.get(other["owner_id"])
        rows.append(
            {
                "id": link["id"],
                "task_id": other["id"],
                "label": link["label"],
                "title": other["title"],
                "is_active": other["is_active"],
                "project_id": other["project_id"],
                "column_id": other["column_id"],
                "color_id": other["color_id"],
                "date_completed": other["date_completed"],
                "date_started": other["date_started"],
                "date_due": other["date_due"],
                "task_time_spent": other["time_spent"],
                "task_time_estimated": other["time_estimated"],
                "task_assignee_id": other["owner_id"],
                "task_assignee_username": owner["username"] if owner else None,
                "task_assignee_name": owner["name"] if owner else None,
                "column_title": board.columns[other["column_id"]]["title"],
                "project_name": board.projects[other["project_id"]]["name"],
            }
        )
    return rows


# Users -----------------------------------------------------------------------------------------


def get_all_users(board: DemoBoard, caller: Caller) -> list[Row]:
    return [board.user_row(u) for u in sorted(board.users.values(), key=lambda u: u["id"])]


def get_user_by_name(board: DemoBoard, caller: Caller, username: Any) -> Row | None:
    user = next((u for u in board.users.values() if u["username"] == username), None)
    return board.user_row(user) if user else None


# "Me" (user API only) --------------------------------------------------------------------------


def _me(board: DemoBoard, caller: Caller) -> int:
    assert caller.user_id is not None  # access "user" guarantees it
    return caller.user_id


def get_me(board: DemoBoard, caller: Caller) -> Row:
    row = board.user_row(board.users[_me(board, caller)])
    for key in ("password", "is_admin", "is_project_admin"):
        del row[key]
    return {**row, "is_ldap_user": False, "twofactor_activated": False}


def get_my_projects(board: DemoBoard, caller: Caller) -> list[Row]:
    return [board.project_row(p) for p in board.projects_of(_me(board, caller))]


def get_my_projects_list(board: DemoBoard, caller: Caller) -> dict[str, str] | list[Any]:
    return _id_map({str(p["id"]): p["name"] for p in board.projects_of(_me(board, caller))})


def get_my_overdue_tasks(board: DemoBoard, caller: Caller) -> list[Row]:
    me = _me(board, caller)
    return [row for row in get_overdue_tasks(board, caller) if row["owner_id"] == me]


def get_my_dashboard(board: DemoBoard, caller: Caller) -> list[Row]:
    me = _me(board, caller)
    mine = [
        t
        for t in sorted(board.tasks.values(), key=lambda t: t["id"])
        if t["is_active"] and t["owner_id"] == me
    ]
    return [
        {
            **board.search_row(t),
            "tags": board.tag_rows(t),
            "subtasks": get_all_subtasks(board, caller, t["id"]),
        }
        for t in mine
    ]
