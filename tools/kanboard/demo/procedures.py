"""How the demo board runs a procedure: the registry, parameter binding and access checks.

`dispatch` binds parameters the way Kanboard's JSON-RPC library does (and fails with its texts),
checks access the way Kanboard's user API does (admin-only and user-only procedures, project
membership), then runs the procedure. The procedures themselves are in `reads` and `writes`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .board import DemoBoard, as_int

__all__ = [
    "PROCEDURES",
    "Caller",
    "procedure",
    "ForbiddenError",
    "InvalidParamsError",
    "MethodNotFoundError",
    "dispatch",
]

Access = Literal["any", "project", "admin", "user"]


class MethodNotFoundError(Exception):
    """No such procedure (-32601)."""


class InvalidParamsError(Exception):
    """Parameters that do not fit the procedure (-32602); the message is Kanboard's `data` text."""


class ForbiddenError(Exception):
    """The caller may not run this procedure here (HTTP 403)."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the application API (`user_id` None) or a user."""

    user_id: int | None = None


@dataclass(frozen=True)
class _Procedure:
    fn: Callable[..., Any]
    access: Access


PROCEDURES: dict[str, _Procedure] = {}


def procedure(name: str, access: Access = "project") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(board, caller, **params)` as the Kanboard procedure `name`.

    Access: "any" for everyone, "project" for members of the project the params name (user API),
    "admin" for app-admin users, "user" for the user API only (getMe, getMy*).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        PROCEDURES[name] = _Procedure(fn, access)
        return fn

    return register


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
