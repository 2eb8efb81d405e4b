"""An async JSON-RPC client for Kanboard 1.2.x: the only module that speaks JSON-RPC.

It turns Kanboard's quirks into plain Python: `false`/`null` for "not found" become `None`,
string-keyed maps become `dict[int, str]`, HTTP 401/403 and JSON-RPC error objects become typed
errors (see `errors`), and a write answered with `false` raises `KanboardRejectedError`. Connect
errors are retried once; read timeouts are retried once for reads only. It does not resolve names,
format text or decide what a tool shows; that is `index`, `format` and `server`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import httpx
import structlog
from pydantic import TypeAdapter

from homelab_common.servers import HttpClient

from .errors import (
    KanboardAuthError,
    KanboardForbiddenError,
    KanboardRejectedError,
    KanboardRPCError,
    KanboardUnreachableError,
)
from .models import (
    BoardSwimlane,
    Column,
    Comment,
    Project,
    Subtask,
    Swimlane,
    Task,
    TaskExtras,
    TaskLink,
    User,
)
from .settings import APP_USER, KanboardSettings

__all__ = ["KanboardClient"]

log = structlog.get_logger(__name__)

_READ_PREFIXES = ("get", "search")
_BATCH = 100  # procedures per JSON-RPC batch request
_projects = TypeAdapter(list[Project])
_tasks = TypeAdapter(list[Task])
_board = TypeAdapter(list[BoardSwimlane])
_columns = TypeAdapter(list[Column])
_swimlanes = TypeAdapter(list[Swimlane])
_comments = TypeAdapter(list[Comment])
_subtasks = TypeAdapter(list[Subtask])
_links = TypeAdapter(list[TaskLink])
_users = TypeAdapter(list[User])


def _safe_url(url: str) -> str:
    """The URL without any user:password@ part, for messages."""
    try:
        return str(httpx.URL(url).copy_with(username=None, password=None))
    except httpx.InvalidURL:
        return "<invalid URL>"


def _id_map(result: Any) -> dict[int, str]:
    """Kanboard's `{"2": "Alice Chen"}` maps (an empty one may come back as `[]`)."""
    if not result:
        return {}
    return {int(key): str(value) for key, value in dict(result).items()}


class KanboardClient(HttpClient):
    """One connection to Kanboard; use as `async with KanboardClient(settings) as kb:`."""

    def __init__(self, settings: KanboardSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._endpoint = settings.endpoint
        self._url = _safe_url(self._endpoint)
        secret = settings.secret.get_secret_value() if settings.secret else ""
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(settings.username, secret),
            timeout=settings.timeout,
            transport=transport,
            headers={"User-Agent": "homelab-agent-kanboard"},
        )
        self._username = settings.username
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"KanboardClient(url={self._url!r}, username={self._username!r})"

    @property
    def is_app_auth(self) -> bool:
        """True with the application API token (full access, no "me")."""
        return self._username == APP_USER

    async def call(self, method: str, **params: Any) -> Any:
        """Call one JSON-RPC procedure and return its `result`, raising `KanboardError`s."""
        payload: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params:
            payload["params"] = params
        body = await self._exchange(method, payload)
        if not isinstance(body, dict):
            raise KanboardUnreachableError(f"Kanboard at {self._url} sent an unexpected answer to {method}")
        return _result(method, body)

    async def batch(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several reads in as few HTTP requests as JSON-RPC batches allow; results in call order."""
        results: list[Any] = []
        for start in range(0, len(calls), _BATCH):
            chunk = calls[start : start + _BATCH]
            ids = [next(self._ids) for _ in chunk]
            payload = [
                {"jsonrpc": "2.0", "method": method, "id": i, **({"params": params} if params else {})}
                for i, (method, params) in zip(ids, chunk, strict=True)
            ]
            label = f"batch of {len(chunk)} ({chunk[0][0]}...)"
            body = await self._exchange(chunk[0][0], payload, label=label)
            by_id = (
                {item.get("id"): item for item in body if isinstance(item, dict)}
                if isinstance(body, list)
                else {}
            )
            for i, (method, _) in zip(ids, chunk, strict=True):
                if i not in by_id:
                    raise KanboardUnreachableError(
                        f"Kanboard at {self._url} left {method} out of a batch answer"
                    )
                results.append(_result(method, by_id[i]))
        return results

    async def _exchange(self, method: str, payload: Any, *, label: str | None = None) -> Any:
        """POST one request (single or batch) and return its decoded JSON body, raising on HTTP errors."""
        started = time.perf_counter()
        response = await self._post(method, payload)
        log.debug("kanboard.call", method=label or method, status=response.status_code, ms=_ms(started))
        if response.status_code == 401:
            raise KanboardAuthError(
                "Kanboard rejected the credentials (HTTP 401): check KANBOARD_TOKEN / the API token "
                "under Settings > API (or KANBOARD_USERNAME / KANBOARD_PASSWORD)"
            )
        if response.status_code == 403:
            raise KanboardForbiddenError(
                f"Kanboard refused {method} (HTTP 403 Forbidden): this user may not call it or is not a "
                "member of that project; the API token (user jsonrpc) has full access"
            )
        if response.status_code != 200:
            raise KanboardUnreachableError(
                f"Kanboard at {self._url} answered HTTP {response.status_code} to {method}: "
                "is KANBOARD_URL the address of Kanboard?"
            )
        try:
            return response.json()
        except ValueError:
            raise KanboardUnreachableError(
                f"Kanboard at {self._url} did not answer JSON to {method}: "
                "is KANBOARD_URL the address of Kanboard?"
            ) from None

    async def _post(self, method: str, payload: Any) -> httpx.Response:
        retry_read_timeout = method.startswith(_READ_PREFIXES)
        for attempt in (1, 2):
            try:
                return await self._http.post(self._endpoint, json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout) as exc:
                retryable = not isinstance(exc, httpx.ReadTimeout) or retry_read_timeout
                if attempt == 1 and retryable:
                    log.warning("kanboard.retry", method=method, error=type(exc).__name__)
                    continue
                raise self._unreachable(exc) from None
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _unreachable(self, exc: httpx.TransportError) -> KanboardUnreachableError:
        reason = str(exc) or type(exc).__name__
        return KanboardUnreachableError(
            f"cannot reach Kanboard at {self._url}: {reason}; check KANBOARD_URL and that Kanboard is running"
        )

    async def _write(self, method: str, **params: Any) -> Any:
        result = await self.call(method, **params)
        if result is False or result is None:
            raise KanboardRejectedError(f"Kanboard refused {method} (it answered false): {_why(method)}")
        return result

    # Reads -----------------------------------------------------------------------------------

    async def version(self) -> str:
        """Kanboard's version, e.g. "1.2.53"."""
        return str(await self.call("getVersion"))

    async def timezone(self) -> str:
        """The timezone Kanboard shows dates in, e.g. "Europe/Berlin"."""
        return str(await self.call("getTimezone") or "UTC")

    async def projects(self) -> list[Project]:
        """Every project this user can see (getAllProjects, or getMyProjects for non-admin users)."""
        try:
            result = await self.call("getAllProjects")
        except KanboardForbiddenError:
            if self.is_app_auth:
                raise
            result = await self.call("getMyProjects")
        return _projects.validate_python(result or [])

    async def board(self, project_id: int) -> list[BoardSwimlane]:
        """Swimlanes → columns → open tasks; `[]` for an unknown project."""
        return _board.validate_python(await self.call("getBoard", project_id=project_id) or [])

    async def tasks(self, project_id: int, *, closed: bool = False) -> list[Task]:
        """The open (or closed) tasks of a project."""
        result = await self.call("getAllTasks", project_id=project_id, status_id=0 if closed else 1)
        return _tasks.validate_python(result or [])

    async def search(self, project_id: int, query: str) -> list[Task]:
        """Tasks of one project matching a Kanboard filter query (no implicit status filter)."""
        return _tasks.validate_python(
            await self.call("searchTasks", project_id=project_id, query=query) or []
        )

    async def task(self, task_id: int) -> Task | None:
        """One task, or None when there is no such task."""
        result = await self.call("getTask", task_id=task_id)
        return Task.model_validate(result) if result else None

    async def overdue(self) -> list[Task]:
        """Open tasks past their due date, in every project this user can see."""
        try:
            return _tasks.validate_python(await self.call("getOverdueTasks") or [])
        except KanboardForbiddenError:
            if self.is_app_auth:
                raise
        return [task for project in await self.projects() for task in await self.overdue_in(project.id)]

    async def overdue_in(self, project_id: int) -> list[Task]:
        """Open tasks past their due date in one project."""
        return _tasks.validate_python(
            await self.call("getOverdueTasksByProject", project_id=project_id) or []
        )

    async def every_task(self, project_ids: Sequence[int]) -> list[Task]:
        """The open and the closed tasks of several projects, in one batched request."""
        calls = [
            ("getAllTasks", {"project_id": pid, "status_id": status})
            for pid in project_ids
            for status in (1, 0)
        ]
        return [task for result in await self.batch(calls) for task in _tasks.validate_python(result or [])]

    async def extras(self, task_ids: Sequence[int]) -> dict[int, TaskExtras]:
        """Comments, subtasks, tags and links of several tasks, in batched requests."""
        methods = ("getAllComments", "getAllSubtasks", "getTaskTags", "getAllTaskLinks")
        results = await self.batch([(m, {"task_id": tid}) for tid in task_ids for m in methods])
        extras: dict[int, TaskExtras] = {}
        for n, task_id in enumerate(task_ids):
            comments, subtasks, tags, links = results[4 * n : 4 * n + 4]
            extras[task_id] = TaskExtras(
                comments=_comments.validate_python(comments or []),
                subtasks=_subtasks.validate_python(subtasks or []),
                tags=list(_id_map(tags).values()),
                links=_links.validate_python(links or []),
            )
        return extras

    async def layouts(
        self, project_ids: Sequence[int]
    ) -> dict[int, tuple[list[Column], list[Swimlane], dict[int, str]]]:
        """Columns, active swimlanes and categories of several projects, in one batched request."""
        methods = ("getColumns", "getActiveSwimlanes", "getAllCategories")
        results = await self.batch([(m, {"project_id": pid}) for pid in project_ids for m in methods])
        layouts = {}
        for n, project_id in enumerate(project_ids):
            columns, lanes, categories = results[3 * n : 3 * n + 3]
            layouts[project_id] = (
                _columns.validate_python(columns or []),
                _swimlanes.validate_python(lanes or []),
                {int(row["id"]): str(row["name"]) for row in categories or []},
            )
        return layouts

    async def comments(self, task_id: int) -> list[Comment]:
        """A task's comments, oldest first."""
        return _comments.validate_python(await self.call("getAllComments", task_id=task_id) or [])

    async def subtasks(self, task_id: int) -> list[Subtask]:
        """A task's subtasks."""
        return _subtasks.validate_python(await self.call("getAllSubtasks", task_id=task_id) or [])

    async def task_tags(self, task_id: int) -> dict[int, str]:
        """A task's tags as {tag id: name}."""
        return _id_map(await self.call("getTaskTags", task_id=task_id))

    async def task_links(self, task_id: int) -> list[TaskLink]:
        """Links from a task to other tasks."""
        return _links.validate_python(await self.call("getAllTaskLinks", task_id=task_id) or [])

    async def columns(self, project_id: int) -> list[Column]:
        """A project's columns, left to right."""
        return _columns.validate_python(await self.call("getColumns", project_id=project_id) or [])

    async def swimlanes(self, project_id: int) -> list[Swimlane]:
        """A project's active swimlanes."""
        return _swimlanes.validate_python(await self.call("getActiveSwimlanes", project_id=project_id) or [])

    async def categories(self, project_id: int) -> dict[int, str]:
        """A project's categories as {category id: name}."""
        rows = await self.call("getAllCategories", project_id=project_id) or []
        return {int(row["id"]): str(row["name"]) for row in rows}

    async def project_users(self, project_id: int) -> dict[int, str]:
        """Members of a project as {user id: display name}."""
        return _id_map(await self.call("getProjectUsers", project_id=project_id))

    async def assignable_users(self, project_id: int) -> dict[int, str]:
        """Members who may own tasks (viewers may not) as {user id: display name}."""
        return _id_map(await self.call("getAssignableUsers", project_id=project_id))

    async def me(self) -> User:
        """The logged-in user (user API only; the API token has no "me" and gets 403)."""
        return User.model_validate(await self.call("getMe"))

    async def users(self) -> list[User]:
        """Every user (password hashes are dropped by the model)."""
        return _users.validate_python(await self.call("getAllUsers") or [])

    # Writes ----------------------------------------------------------------------------------

    async def create_task(self, title: str, project_id: int, **fields: Any) -> int:
        """Create a task and return its id; dates must already be "Y-m-d H:i" strings."""
        return int(await self._write("createTask", title=title, project_id=project_id, **fields))

    async def update_task(self, task_id: int, **fields: Any) -> None:
        """Change a task's fields (Kanboard names the id `id` here)."""
        await self._write("updateTask", id=task_id, **fields)

    async def move_task(
        self, project_id: int, task_id: int, column_id: int, swimlane_id: int, position: int
    ) -> None:
        """Move a task to a column/swimlane; position is 1-based."""
        await self._write(
            "moveTaskPosition",
            project_id=project_id,
            task_id=task_id,
            column_id=column_id,
            position=position,
            swimlane_id=swimlane_id,
        )

    async def close_task(self, task_id: int) -> None:
        """Close a task (closing a closed task succeeds)."""
        await self._write("closeTask", task_id=task_id)

    async def open_task(self, task_id: int) -> None:
        """Reopen a closed task."""
        await self._write("openTask", task_id=task_id)

    async def create_comment(self, task_id: int, user_id: int, content: str) -> int:
        """Add a comment as `user_id` and return its id."""
        return int(await self._write("createComment", task_id=task_id, user_id=user_id, content=content))

    async def create_subtask(self, task_id: int, title: str, user_id: int = 0) -> int:
        """Add a subtask and return its id."""
        params: dict[str, Any] = {"task_id": task_id, "title": title}
        if user_id:
            params["user_id"] = user_id
        return int(await self._write("createSubtask", **params))


def _result(method: str, body: dict[str, Any]) -> Any:
    """The `result` of one JSON-RPC response object, or its error raised as `KanboardRPCError`."""
    error = body.get("error")
    if isinstance(error, dict):
        raise KanboardRPCError(
            method, int(error.get("code", 0)), str(error.get("message", "")), error.get("data")
        )
    return body.get("result")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _why(method: str) -> str:
    hints = {
        "createTask": "check the title is not empty, the owner is a member of the project, dates are valid",
        "updateTask": "check the task exists, the owner is a project member, start is not after due",
        "moveTaskPosition": "check the column and swimlane belong to the task's project",
        "createComment": "with user credentials you can only comment as yourself",
    }
    return hints.get(method, "check the task exists")
