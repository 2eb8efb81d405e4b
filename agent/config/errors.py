"""The text of a `ConfigError` for a config that fails validation: the file, each key, what to do.

It only words pydantic's errors; the rules are the schema's (`agent.config.schema`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from agent.config.removed import why_removed
from agent.models.settings import BACKENDS

__all__ = ["describe"]

EXAMPLE = "config/homelab-agent.example.toml"


def describe(path: Path, exc: ValidationError) -> str:
    """One line naming `path` and the number of problems, then one line per problem."""
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        loc, backend = list(err["loc"]), None
        if len(loc) > 2 and loc[0] == "models" and loc[2] in BACKENDS:  # the union's tag, not a key
            backend = loc.pop(2)
        key = ".".join(str(p) for p in loc)
        msg = err["msg"]
        if err["type"] == "value_error" and not key:  # a rule between keys: its text names them
            lines.append(f"  {err.get('ctx', {}).get('error', msg)}")
            continue
        key = key or "(top level)"
        if err["type"] == "extra_forbidden":
            msg = f"unknown key (check the spelling against {EXAMPLE})"
            gone = why_removed(str(loc[0]), str(loc[-1])) if len(loc) == 2 else None
            if gone is not None:
                msg = f"no longer a setting ({gone}); delete it"
            if backend is not None:
                msg = f'not a setting of backend = "{backend}" (see {EXAMPLE})'
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)
