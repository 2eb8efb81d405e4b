"""Finding the container or compose project a person (or a model) named, forgivingly.

A container is named by its container name, `project/service`, its compose service, its id (or
the first 4+ characters), or, when that is unique, a compose project with one container or any
unique part of a name. A miss or an ambiguous name is a `DockerNotFoundError` that lists what
there is, so the next call can get it right. Pure functions over lists; no Docker calls here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .errors import DockerNotFoundError
from .models import Container

__all__ = ["find_container", "find_project", "in_project"]

_MAX_LISTED = 30
_EVERYTHING = {"", "all", "any", "*", "every", "everything", "none", "null", "all projects", "docker"}


def _norm(name: str) -> str:
    return name.strip().strip("'\"").lstrip("/#").strip().casefold()


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def find_container(containers: Sequence[Container], name: str) -> Container:
    """The one container `name` means; raises `DockerNotFoundError` naming the candidates."""
    wanted = _norm(name)
    if not wanted:
        raise DockerNotFoundError("No container named: give a container name or project/service.")
    hex_id = len(wanted) >= 4 and re.fullmatch(r"[0-9a-f]+", wanted) is not None

    def exact(c: Container) -> bool:
        return wanted in {c.name.casefold(), c.key.casefold(), c.id} or (hex_id and c.id.startswith(wanted))

    def service(c: Container) -> bool:
        return c.service.casefold() == wanted

    def project(c: Container) -> bool:
        return c.project.casefold() == wanted

    def part(c: Container) -> bool:
        return wanted in c.key.casefold() or wanted in c.name.casefold()

    tries: tuple[Callable[[Container], bool], ...] = (exact, service, project, part)
    for matches in tries:
        found = [c for c in containers if matches(c)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = sorted({c.key if _unique_key(containers, c) else c.name for c in found})
            raise DockerNotFoundError(
                f"{len(found)} containers match {name.strip()!r}: {_listing(names)}; name one of them."
            )
    everything = sorted(c.key for c in containers)
    raise DockerNotFoundError(
        f"No container matches {name.strip()!r}. Containers: {_listing(everything) or 'none'}."
    )


def find_project(containers: Sequence[Container], project: str) -> str | None:
    """The compose project `project` names (any letter case); None for "every project"."""
    wanted = _norm(project)
    if wanted in _EVERYTHING:
        return None
    projects = sorted({c.project for c in containers if c.project})
    for each in projects:
        if each.casefold() == wanted:
            return each
    raise DockerNotFoundError(
        f"No compose project {project.strip()!r}. Projects: {_listing(projects) or 'none'}."
    )


def in_project(containers: Sequence[Container], project: str) -> list[Container]:
    """The containers of compose project `project`, or, when no project is called that, the ones
    whose name or service it names (models ask for the project "jellyfin"); all for "" or "all"."""
    try:
        found = find_project(containers, project)
    except DockerNotFoundError:
        wanted = _norm(project)
        named = [c for c in containers if wanted in c.key.casefold() or wanted in c.name.casefold()]
        if named:
            return named
        raise
    return [c for c in containers if found is None or c.project == found]


def _unique_key(containers: Sequence[Container], container: Container) -> bool:
    return sum(1 for c in containers if c.key == container.key) == 1
