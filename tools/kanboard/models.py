"""Typed views of what the tools read from Kanboard.

Each model keeps only the fields the tools use and ignores the rest, so the several shapes Kanboard
returns for a task (getTask, searchTasks, getBoard, getOverdueTasks) all fit `Task`. Timestamps
become aware UTC datetimes, and Kanboard's `0` / `null` for "no date" become `None`. `User` has
no password field, so a hash from getAllUsers can never reach a tool's output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "BoardColumn",
    "BoardSwimlane",
    "Column",
    "Comment",
    "Project",
    "Subtask",
    "Swimlane",
    "Task",
    "TaskExtras",
    "TaskLink",
    "TaskTag",
    "User",
]


def _timestamp(value: object) -> datetime | None:
    if value in (None, 0, "0", "", False):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    raise ValueError(f"not a unix timestamp: {value!r}")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _number(value: object) -> int:
    return 0 if value in (None, "") else int(str(value))


Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]
Text = Annotated[str, BeforeValidator(_text)]
Id = Annotated[int, BeforeValidator(_number)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Project(_Model):
    """A Kanboard project."""

    id: int
    name: str
    description: Text = ""
    is_active: Id = 1
    identifier: Text = ""


class Column(_Model):
    """A column of a project's board."""

    id: int
    title: str
    position: Id = 0
    description: Text = ""


class Swimlane(_Model):
    """A swimlane of a project's board."""

    id: int
    name: str
    position: Id = 0
    is_active: Id = 1


class TaskTag(_Model):
    """A tag as board tasks carry it."""

    id: int
    name: str


class Task(_Model):
    """A task, from any of Kanboard's task shapes; fields a shape lacks keep their defaults."""

    id: int
    title: str
    description: Text = ""
    reference: Text = ""
    project_id: Id = 0
    column_id: Id = 0
    swimlane_id: Id = 0
    category_id: Id = 0
    owner_id: Id = 0
    creator_id: Id = 0
    is_active: Id = 1
    priority: Id = 0
    date_due: Timestamp = None
    date_started: Timestamp = None
    date_completed: Timestamp = None
    date_creation: Timestamp = None
    date_modification: Timestamp = None  # any change to the task's own fields (not its comments)
    time_estimated: float | None = None
    time_spent: float | None = None
    project_name: str | None = None
    column_name: str | None = None
    swimlane_name: str | None = None
    category_name: str | None = None
    assignee_username: str | None = None
    assignee_name: str | None = None
    nb_comments: Id = 0
    nb_subtasks: Id = 0
    nb_completed_subtasks: Id = 0
    tags: list[TaskTag] = Field(default_factory=list)

    def is_overdue(self, now: datetime) -> bool:
        """Whether the task is open and its due time has come: the one definition of overdue.

        A task due today at 17:00 is overdue from 17:00; one due at 23:59 (a bare date) only then."""
        return bool(self.is_active) and self.date_due is not None and self.date_due <= now


class BoardColumn(Column):
    """A column on the board, with its open tasks in one swimlane."""

    tasks: list[Task] = Field(default_factory=list)


class BoardSwimlane(Swimlane):
    """A swimlane on the board, with its columns."""

    columns: list[BoardColumn] = Field(default_factory=list)


class Comment(_Model):
    """A comment on a task."""

    id: int
    comment: Text = ""
    user_id: Id = 0
    username: str | None = None
    name: str | None = None
    date_creation: Timestamp = None


class Subtask(_Model):
    """A subtask (checklist item) of a task."""

    id: int
    title: str
    status: Id = 0  # 0 todo, 1 in progress, 2 done
    status_name: Text = ""
    user_id: Id = 0
    username: str | None = None
    name: str | None = None


class TaskLink(_Model):
    """A link from one task to another ("blocks", "relates to"...)."""

    id: int
    task_id: int
    label: str
    title: str
    is_active: Id = 1
    project_name: str | None = None


class User(_Model):
    """A Kanboard user. There is deliberately no password field."""

    id: int
    username: str
    name: Text = ""
    role: Text = ""
    is_active: Id = 1

    @property
    def display(self) -> str:
        """`Name (username)`, or the username alone when the user has no name."""
        return f"{self.name} ({self.username})" if self.name else self.username


class TaskExtras(_Model):
    """What hangs off a task: its comments (oldest first), subtasks, tags and links."""

    comments: list[Comment] = Field(default_factory=list)
    subtasks: list[Subtask] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    links: list[TaskLink] = Field(default_factory=list)
