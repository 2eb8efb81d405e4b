"""How the demo board runs a procedure: the table of procedures, parameter binding and access checks.

`PROCEDURES` names every Kanboard procedure the board answers and who may call it, in one place
(the functions themselves are in `reads` and `writes`). `dispatch` binds parameters the way
Kanboard's JSON-RPC library does (and fails with its texts), checks access the way Kanboard's user
API does (admin-only and user-only procedures, project membership), then runs the procedure.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import reads, writes
from .board import DemoBoard, as_int
from .rpc import Access, Caller, ForbiddenError, InvalidParamsError, MethodNotFoundError

__all__ = [
    "PROCEDURES",
    "Caller",
    "ForbiddenError",
    "InvalidParamsError",
    "MethodNotFoundError",
    "Procedure",
    "dispatch",
]


@dataclass(frozen=True)
class Procedure:
    """One Kanboard procedure: `fn(board, caller, **params)` and who may call it."""

    fn: Callable[..., Any]
    access: Access


PROCEDURES: dict[str, Procedure] = {
    # Application
    "getVersion": Procedure(reads.get_version, "any"),
    "getTimezone": Procedure(reads.get_timezone, "any"),
    "getColorList": Procedure(reads.get_color_list, "any"),
    # Projects
    "getAllProjects": Procedure(reads.get_all_projects, "admin"),
    "getProjectById": Procedure(reads.get_project_by_id, "project"),
    "getProjectByName": Procedure(reads.get_project_by_name, "any"),
    "getProjectUsers": Procedure(reads.get_project_users, "project"),
    "getAssignableUsers": Procedure(reads.get_assignable_users, "project"),
    "getColumns": Procedure(reads.get_columns, "project"),
    "getAllSwimlanes": Procedure(reads.get_all_swimlanes, "project"),
    "getActiveSwimlanes": Procedure(reads.get_active_swimlanes, "project"),
    "getAllCategories": Procedure(reads.get_all_categories, "project"),
    "getTagsByProject": Procedure(reads.get_tags_by_project, "project"),
    "getBoard": Procedure(reads.get_board, "project"),
    # Tasks
    "getTask": Procedure(reads.get_task, "project"),
    "getTaskByReference": Procedure(reads.get_task_by_reference, "project"),
    "getAllTasks": Procedure(reads.get_all_tasks, "project"),
    "searchTasks": Procedure(reads.search_tasks, "project"),
    "getOverdueTasks": Procedure(reads.get_overdue_tasks, "admin"),
    "getOverdueTasksByProject": Procedure(reads.get_overdue_tasks_by_project, "project"),
    "getTaskTags": Procedure(reads.get_task_tags, "project"),
    "getAllComments": Procedure(reads.get_all_comments, "project"),
    "getAllSubtasks": Procedure(reads.get_all_subtasks, "project"),
    "getAllTaskLinks": Procedure(reads.get_all_task_links, "project"),
    # Users
    "getAllUsers": Procedure(reads.get_all_users, "admin"),
    "getUserByName": Procedure(reads.get_user_by_name, "admin"),
    "getMe": Procedure(reads.get_me, "user"),
    "getMyProjects": Procedure(reads.get_my_projects, "user"),
    "getMyProjectsList": Procedure(reads.get_my_projects_list, "user"),
    "getMyOverdueTasks": Procedure(reads.get_my_overdue_tasks, "user"),
    "getMyDashboard": Procedure(reads.get_my_dashboard, "user"),
    # Writes
    "createTask": Procedure(writes.create_task, "project"),
    "updateTask": Procedure(writes.update_task, "project"),
    "moveTaskPosition": Procedure(writes.move_task_position, "project"),
    "closeTask": Procedure(writes.close_task, "project"),
    "openTask": Procedure(writes.open_task, "project"),
    "createComment": Procedure(writes.create_comment, "project"),
    "createSubtask": Procedure(writes.create_subtask, "project"),
}
"""Every procedure the demo board answers, by its Kanboard name."""


def dispatch(board: DemoBoard, name: str, params: Any, caller: Caller) -> Any:
    """Run procedure `name` on `board` as `caller`."""
    proc = PROCEDURES.get(name)
    if proc is None:
        raise MethodNotFoundError(name)
    args = _bind(proc.fn, params)
    _authorize(board, proc.access, args, caller)
    board.calls.append(name)
    return proc.fn(board, caller, **args)


def _bind(fn: Callable[..., Any], params: Any) -> dict[str, Any]:
    """Kanboard's (fguillot/json-rpc) argument binding, with its error texts."""
    names = [p for p in inspect.signature(fn).parameters.values() if p.name not in {"board", "caller"}]
    required = [p for p in names if p.default is inspect.Parameter.empty]
    params = {} if params is None else params
    if not isinstance(params, list | dict):
        raise InvalidParamsError("Wrong number of arguments")
    if len(params) < len(required):
        raise InvalidParamsError("Wrong number of arguments")
    if len(params) > len(names):
        raise InvalidParamsError("Too many arguments")
    if isinstance(params, list):
        return {p.name: value for p, value in zip(names, params, strict=False)}
    bound: dict[str, Any] = {}
    for p in names:
        if params.get(p.name) is not None:
            bound[p.name] = params[p.name]
        elif p.default is not inspect.Parameter.empty:
            bound[p.name] = p.default
        else:
            raise InvalidParamsError(f"Missing argument: {p.name}")
    return bound


def _authorize(board: DemoBoard, access: Access, args: dict[str, Any], caller: Caller) -> None:
    if caller.user_id is None:
        if access == "user":
            raise ForbiddenError("user API only")
        return
    if access == "admin" and board.users[caller.user_id]["role"] != "app-admin":
        raise ForbiddenError("admin only")
    if access != "project":
        return
    project_id = as_int(args.get("project_id"))
    if project_id is None and ("task_id" in args or "id" in args):
        task = board.task(args.get("task_id", args.get("id")))
        if task is None:
            raise ForbiddenError("no such task")
        project_id = task["project_id"]
    project = board.projects.get(project_id) if project_id is not None else None
    if project_id is not None and (project is None or str(caller.user_id) not in project["members"]):
        raise ForbiddenError("not a member")
