"""Errors the Docker client and tools raise, each one line a person or a small model can act on.

    DockerError
    ├── DockerUnreachableError .. no socket, nothing listening, a timeout, or not the Engine API
    ├── DockerPermissionError ... the socket is there but this user may not open it
    ├── DockerForbiddenError .... HTTP 403: a socket proxy refused this GET (its allow-list)
    ├── DockerNotFoundError ..... a container or compose project that does not exist
    └── DockerAPIError .......... any other error answer of the Engine API

No message ever contains an environment value. No constructor logs.
"""

from __future__ import annotations

__all__ = [
    "DockerAPIError",
    "DockerError",
    "DockerForbiddenError",
    "DockerNotFoundError",
    "DockerPermissionError",
    "DockerUnreachableError",
]


class DockerError(Exception):
    """Base of every Docker error."""


class DockerUnreachableError(DockerError):
    """No Docker Engine answered: a missing socket, nothing listening, a timeout, a wrong address."""


class DockerPermissionError(DockerError):
    """The Docker socket exists but this user may not open it."""


class DockerForbiddenError(DockerError):
    """A socket proxy in front of Docker refused the request (HTTP 403)."""


class DockerNotFoundError(DockerError):
    """A container or compose project that does not exist."""


class DockerAPIError(DockerError):
    """Any other error the Engine API answered with."""
