"""Errors the Kanboard client and tools raise, with messages a person or a small model can act on.

    KanboardError
    ├── KanboardUnreachableError .. no answer, a timeout, or an answer that is not Kanboard JSON-RPC
    ├── KanboardAuthError ......... HTTP 401: Kanboard rejected the credentials
    ├── KanboardForbiddenError .... HTTP 403: this user may not call that procedure or see that project
    ├── KanboardNotFoundError ..... a project, task, person, column or swimlane that does not exist
    ├── KanboardRejectedError ..... a write Kanboard refused (it answered `false`)
    └── KanboardRPCError .......... a JSON-RPC error object (-32601 method not found, -32602 bad params...)

No message ever contains a token or password. No constructor logs.
"""

from __future__ import annotations

__all__ = [
    "KanboardAuthError",
    "KanboardError",
    "KanboardForbiddenError",
    "KanboardNotFoundError",
    "KanboardRPCError",
    "KanboardRejectedError",
    "KanboardUnreachableError",
]


class KanboardError(Exception):
    """Base of every Kanboard error."""


class KanboardUnreachableError(KanboardError):
    """Kanboard did not answer, or answered something that is not Kanboard JSON-RPC."""


class KanboardAuthError(KanboardError):
    """Kanboard rejected the credentials (HTTP 401)."""


class KanboardForbiddenError(KanboardError):
    """The user is not allowed to call this procedure or to see this project (HTTP 403)."""


class KanboardNotFoundError(KanboardError):
    """A project, task, person, column or swimlane that does not exist."""


class KanboardRejectedError(KanboardError):
    """Kanboard refused a write: it answered `false` instead of an id or `true`."""


class KanboardRPCError(KanboardError):
    """A JSON-RPC error object in Kanboard's answer."""

    def __init__(self, method: str, code: int, message: str, data: object = None) -> None:
        detail = f": {data}" if data else ""
        super().__init__(f"Kanboard error {code} calling {method}: {message}{detail}")
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data
