"""What a call to the demo board carries and how it can fail: the caller, access levels, errors.

Shared by the procedures (`reads`, `writes`), the table that names them (`procedures`) and the
HTTP app (`app`), which turns the errors into Kanboard's JSON-RPC error bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Access", "Caller", "ForbiddenError", "InvalidParamsError", "MethodNotFoundError"]

Access = Literal["any", "project", "admin", "user"]
"""Who may call a procedure: "any" caller, members of the "project" the params name (user API),
"admin" for app-admin users, "user" for the user API only (getMe, getMy*)."""


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
