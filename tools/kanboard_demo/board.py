"""The demo board's state, and its rows in the exact shapes Kanboard 1.2.53 returns.

State is plain dicts loaded from `seed.json`, with relative dates ("-2d 17:00") turned into unix
timestamps when the board is created, so overdue work stays overdue as time passes. The procedures
that read and change this state live in `procedures`; HTTP, auth and JSON-RPC framing in `app`.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DemoBoard", "Row", "as_int"]

Row = dict[str, Any]
_RELATIVE = re.compile(r"(-?\d+)d(?: (\d\d):(\d\d))?")
_WRITE_FORMATS = ("%Y-%m-%d %H:%M", "%Y_%m_%d %H:%M", "%m/%d/%Y %H:%M", "%Y-%m-%d", "%Y_%m_%d", "%m/%d/%Y")
_FAKE_HASH = "$2y$10$demo.demo.demo.demo.demo.uJq0X9m8Qm3c2bq3a5YdW1d1h0n3K"


def as_int(value: Any) -> int | None:
    """An int from a JSON value, as PHP would read an id; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class DemoBoard:
    """An in-memory Kanboard seeded from a dict shaped like `seed.json`."""

    def __init__(self, seed: dict[str, Any], clock: Callable[[], float] = time.time) -> None:
        data = copy.deepcopy(seed)
        self.clock = clock
        self.version: str = data["version"]
        self.timezone: str = data["timezone"]
        self.tz = ZoneInfo(self.timezone)
        self.base_url: str = data["application_url"]
        self.colors: dict[str, list[str]] = data["colors"]
        self.sequences: dict[str, int] = data["sequences"]
        self.users: dict[int, Row] = {u["id"]: u for u in data["users"]}
        self.projects: dict[int, Row] = {p["id"]: p for p in data["projects"]}
        self.columns: dict[int, Row] = {c["id"]: c for c in data["columns"]}
        self.swimlanes: dict[int, Row] = {s["id"]: {"is_active": 1, **s} for s in data["swimlanes"]}
        self.categories: dict[int, Row] = {c["id"]: c for c in data["categories"]}
        self.tags: dict[int, Row] = {t["id"]: t for t in data["tags"]}
        self.subtasks: dict[int, Row] = {s["id"]: s for s in data["subtasks"]}
        self.links: dict[int, Row] = {link["id"]: link for link in data["links"]}
        self.comments: dict[int, Row] = {}
        for c in data["comments"]:
            created = self._relative(c.pop("created"))
            self.comments[c["id"]] = {**c, "date_creation": created, "date_modification": created}
        self.tasks: dict[int, Row] = {}
        for t in data["tasks"]:
            self.tasks[t["id"]] = self._load_task(t)
        self.calls: list[str] = []  # names of the procedures run, in order (procedures.dispatch appends)

    # Loading ----------------------------------------------------------------------------------

    def _relative(self, spec: str | None) -> int:
        """ "-2d 17:00" → the unix time two days ago at 17:00 in the board's timezone; None → 0."""
        if not spec:
            return 0
        match = _RELATIVE.fullmatch(spec)
        if match is None:
            raise ValueError(f"bad relative date in seed: {spec!r}")
        days, hour, minute = match.groups()
        today = datetime.fromtimestamp(self.clock(), self.tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        when = today + timedelta(days=int(days), hours=int(hour or 0), minutes=int(minute or 0))
        return int(when.timestamp())

    def _load_task(self, t: Row) -> Row:
        created = self._relative(t.pop("created", None)) or int(self.clock())
        completed = t.pop("completed", None)
        is_active = t.pop("is_active", 1)
        task: Row = {
            "reference": "",
            "priority": 0,
            "score": 0,
            "time_estimated": None,
            "time_spent": None,
            "tags": [],
            **t,
            "is_active": is_active,
            "date_creation": created,
            "date_modification": created,
            "date_moved": created,
            "date_started": self._relative(t.pop("started", None)),
            "date_due": self._relative(t.pop("due", None)),
            "date_completed": self._relative(completed) if completed else None,
        }
        for key in ("started", "due"):
            task.pop(key, None)
        task["position"] = 1 + sum(
            1
            for other in self.tasks.values()
            if (other["column_id"], other["swimlane_id"]) == (task["column_id"], task["swimlane_id"])
        )
        return task

    def next_id(self, sequence: str) -> int:
        """The next id of a sequence ("tasks", "comments", ...), as SQLite's AUTOINCREMENT gives it."""
        self.sequences[sequence] += 1
        return self.sequences[sequence]

    # Rows -------------------------------------------------------------------------------------

    def _url(self, query: str) -> str:
        return f"{self.base_url}?{query}"

    def project_row(self, p: Row) -> Row:
        """A project as getAllProjects / getProjectById return it."""
        return {
            "id": p["id"],
            "name": p["name"],
            "is_active": 1,
            "token": "",
            "last_modified": max((t["date_modification"] for t in self.tasks_of(p["id"])), default=0),
            "is_public": 0,
            "is_private": 0,
            "is_everybody_allowed": 0,
            "default_swimlane": "Default swimlane",
            "show_default_swimlane": 1,
            "description": p["description"],
            "identifier": p["identifier"],
            "start_date": p["start_date"],
            "end_date": p["end_date"],
            "owner_id": p["owner_id"],
            "priority_default": 0,
            "priority_start": 0,
            "priority_end": 3,
            "email": None,
            "predefined_email_subjects": None,
            "per_swimlane_task_limits": 0,
            "task_limit": 0,
            "enable_global_tags": 1,
            "url": {
                "board": self._url(f"controller=BoardViewController&action=show&project_id={p['id']}"),
                "list": self._url(f"controller=TaskListController&action=show&project_id={p['id']}"),
            },
        }

    def _task_base(self, t: Row) -> Row:
        return {
            "id": t["id"],
            "title": t["title"],
            "description": t["description"],
            "date_creation": t["date_creation"],
            "color_id": t["color_id"],
            "project_id": t["project_id"],
            "column_id": t["column_id"],
            "owner_id": t["owner_id"],
            "position": t["position"],
            "is_active": t["is_active"],
            "date_completed": t["date_completed"],
            "score": t["score"],
            "date_due": t["date_due"],
            "category_id": t["category_id"],
            "creator_id": t["creator_id"],
            "date_modification": t["date_modification"],
            "reference": t["reference"],
            "date_started": t["date_started"],
            "time_spent": t["time_spent"],
            "time_estimated": t["time_estimated"],
            "swimlane_id": t["swimlane_id"],
            "date_moved": t["date_moved"],
            "recurrence_status": 0,
            "recurrence_trigger": 0,
            "recurrence_factor": 0,
            "recurrence_timeframe": 0,
            "recurrence_basedate": 0,
            "recurrence_parent": None,
            "recurrence_child": None,
            "priority": t["priority"],
        }

    def task_row(self, t: Row) -> Row:
        """getTask / getAllTasks shape: url and color, no names."""
        name, background, border = self.colors.get(t["color_id"], self.colors["yellow"])
        return {
            **self._task_base(t),
            "external_provider": None,
            "external_uri": None,
            "url": self._url(f"controller=TaskViewController&action=show&task_id={t['id']}"),
            "color": {"name": name, "background": background, "border": border},
        }

    def search_row(self, t: Row) -> Row:
        """searchTasks shape: counters, then the task, then joined names."""
        owner = self.users.get(t["owner_id"])
        category = self.categories.get(t["category_id"])
        column = self.columns[t["column_id"]]
        subtasks = self.subtasks_of(t["id"])
        base = self._task_base(t)
        ordered = {key: base[key] for key in _SEARCH_TASK_KEYS}
        return {
            "nb_comments": sum(1 for c in self.comments.values() if c["task_id"] == t["id"]),
            "nb_files": 0,
            "nb_subtasks": len(subtasks),
            "nb_completed_subtasks": sum(1 for s in subtasks if s["status"] == 2),
            "nb_links": sum(1 for link in self.links.values() if link["task_id"] == t["id"]),
            "nb_external_links": 0,
            "is_milestone": None,
            **ordered,
            "assignee_username": owner["username"] if owner else None,
            "assignee_name": owner["name"] if owner else None,
            "assignee_email": owner["email"] if owner else None,
            "assignee_avatar_path": None,
            "category_name": category["name"] if category else None,
            "category_description": None,
            "category_color_id": category["color_id"] if category else None,
            "column_name": column["title"],
            "column_position": column["position"],
            "swimlane_name": self.swimlanes[t["swimlane_id"]]["name"],
            "project_name": self.projects[t["project_id"]]["name"],
        }

    def tag_rows(self, t: Row) -> list[Row]:
        """A task's tags as board and dashboard tasks carry them."""
        return [
            {
                "id": tag_id,
                "name": self.tags[tag_id]["name"],
                "color_id": self.tags[tag_id]["color_id"],
                "task_id": t["id"],
            }
            for tag_id in sorted(t["tags"])
        ]

    def overdue_row(self, t: Row) -> Row:
        """A task as getOverdueTasks returns it."""
        owner = self.users.get(t["owner_id"])
        return {
            "id": t["id"],
            "title": t["title"],
            "date_due": t["date_due"],
            "project_id": t["project_id"],
            "creator_id": t["creator_id"],
            "owner_id": t["owner_id"],
            "project_name": self.projects[t["project_id"]]["name"],
            "assignee_username": owner["username"] if owner else None,
            "assignee_name": owner["name"] if owner else None,
        }

    def user_row(self, u: Row) -> Row:
        """A user as getAllUsers returns it, password hash included (as Kanboard does)."""
        return {
            "id": u["id"],
            "username": u["username"],
            "password": _FAKE_HASH,
            "is_admin": int(u["role"] == "app-admin"),
            "is_ldap_user": 0,
            "name": u["name"],
            "email": u["email"],
            "google_id": None,
            "github_id": None,
            "notifications_enabled": 0,
            "timezone": None,
            "language": None,
            "disable_login_form": 0,
            "twofactor_activated": 0,
            "twofactor_secret": None,
            "token": "",
            "notifications_filter": 4,
            "nb_failed_login": 0,
            "lock_expiration_date": 0,
            "is_project_admin": 0,
            "gitlab_id": None,
            "role": u["role"],
            "is_active": u.get("is_active", 1),
            "avatar_path": None,
            "api_access_token": None,
            "filter": None,
            "theme": "light",
        }

    def subtask_row(self, s: Row) -> Row:
        """A subtask as getAllSubtasks returns it."""
        user = self.users.get(s["user_id"])
        return {
            "id": s["id"],
            "title": s["title"],
            "status": s["status"],
            "time_estimated": s["time_estimated"],
            "time_spent": s["time_spent"],
            "task_id": s["task_id"],
            "user_id": s["user_id"],
            "position": s.get("position", 1),
            "username": user["username"] if user else None,
            "name": user["name"] if user else None,
            "timer_start_date": 0,
            "status_name": ("Todo", "In progress", "Done")[s["status"]],
            "is_timer_started": False,
        }

    def comment_row(self, c: Row) -> Row:
        """A comment as getAllComments returns it."""
        user = self.users[c["user_id"]]
        return {
            "id": c["id"],
            "date_creation": c["date_creation"],
            "date_modification": c["date_modification"],
            "task_id": c["task_id"],
            "user_id": c["user_id"],
            "comment": c["comment"],
            "visibility": "app-user",
            "username": user["username"],
            "name": user["name"],
            "email": user["email"],
            "avatar_path": None,
        }

    # Queries ----------------------------------------------------------------------------------

    def tasks_of(self, project_id: int) -> list[Row]:
        """A project's tasks, open and closed, by id."""
        return [
            t for t in sorted(self.tasks.values(), key=lambda t: t["id"]) if t["project_id"] == project_id
        ]

    def subtasks_of(self, task_id: int) -> list[Row]:
        """A task's subtasks, by id."""
        return sorted((s for s in self.subtasks.values() if s["task_id"] == task_id), key=lambda s: s["id"])

    def task(self, task_id: Any) -> Row | None:
        """The task with this id, or None (also for ids that are not numbers)."""
        key = as_int(task_id)
        return self.tasks.get(key) if key is not None else None

    def project(self, project_id: Any) -> Row | None:
        """The project with this id, or None."""
        key = as_int(project_id)
        return self.projects.get(key) if key is not None else None

    def is_overdue(self, t: Row) -> bool:
        """Open with 0 < date_due <= now, as getOverdueTasks counts it."""
        return bool(t["is_active"]) and 0 < t["date_due"] <= self.clock()

    def members(self, project: Row, *, assignable: bool = False) -> dict[str, str]:
        """Members as {"id": name} by name; `assignable` leaves out viewers."""
        roles = project["members"]
        ids = [int(i) for i, role in roles.items() if not assignable or role != "project-viewer"]
        return {
            str(i): self.users[i]["name"] for i in sorted(ids, key=lambda i: self.users[i]["name"].casefold())
        }

    def projects_of(self, user_id: int) -> list[Row]:
        """Projects `user_id` is a member of, by name."""
        mine = [p for p in self.projects.values() if str(user_id) in p["members"]]
        return sorted(mine, key=lambda p: p["name"].casefold())

    def parse_date(self, value: Any) -> int | None:
        """A date as Kanboard accepts it on write; None when invalid. Bare dates keep the time of day."""
        if value == "" or value is None:
            return 0
        if not isinstance(value, str):
            return None
        now = datetime.fromtimestamp(self.clock(), self.tz)
        for fmt in _WRITE_FORMATS:
            try:
                parsed = datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
            if "%H" not in fmt:
                parsed = parsed.replace(hour=now.hour, minute=now.minute, second=now.second)
            return int(parsed.replace(tzinfo=self.tz).timestamp())
        return None


_SEARCH_TASK_KEYS = (
    "id",
    "reference",
    "title",
    "description",
    "date_creation",
    "date_modification",
    "date_completed",
    "date_started",
    "date_due",
    "color_id",
    "project_id",
    "column_id",
    "swimlane_id",
    "owner_id",
    "creator_id",
    "position",
    "is_active",
    "score",
    "category_id",
    "priority",
    "date_moved",
    "recurrence_status",
    "recurrence_trigger",
    "recurrence_factor",
    "recurrence_timeframe",
    "recurrence_basedate",
    "recurrence_parent",
    "recurrence_child",
    "time_estimated",
    "time_spent",
)
