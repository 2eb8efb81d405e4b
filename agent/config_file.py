"""Change which file one model entry uses, in a TOML config, leaving the rest of the file alone.

`homelab-agent models use NAME` writes its choice into the config: only the `source = ...` line
of the answering model's `[models.ENTRY]` table changes (or one is added under the header), so
comments and layout survive. The new text is parsed again and must differ from the old in that
one value before it replaces the file, in one rename. A config that spells the entry another way
(dotted keys, an inline table, JSON) is refused, saying what to change by hand.

Loading and validating configs is `config`'s job; this module only edits text.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.exceptions import ConfigError

__all__ = ["answering_entry", "set_model_source"]

_HEADER = re.compile(
    r"""^\s*\[\s*models\s*\.\s*(?:"(?P<dq>[^"]+)"|'(?P<sq>[^']+)'|(?P<bare>[A-Za-z0-9_-]+))\s*\]\s*(?:\#.*)?$"""
)
_VALUE = r"""("(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_SOURCE = re.compile(rf"^(?P<indent>\s*)source\s*=\s*(?P<value>{_VALUE})(?P<rest>\s*(?:#.*)?)$")


def answering_entry(config: Config) -> str:
    """The `[models]` entry that answers questions: `agent.model`, or the router's large model."""
    if config.agent.routed:
        return config.router.large or "large"
    return config.agent.model


def set_model_source(path: Path, entry: str, source: str) -> str | None:
    """Set `source = SOURCE` in the `[models.ENTRY]` table of the TOML file at `path`.

    Returns the source it replaced (None when the table had none).

    Raises:
        ConfigError: not a TOML file, no such table, or an entry written in a form this cannot
            change safely.
    """
    by_hand = f'set models.{entry}.source = "{source}" in {path} by hand'
    if path.suffix == ".json":
        raise ConfigError(f"{path} is JSON (a Claude Desktop config) and names no models; {by_hand}")
    text = path.read_text()
    before = _parse(text, path)
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _entry(line) == entry), None)
    if start is None:
        raise ConfigError(f"{path} has no [models.{entry}] table; {by_hand}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    new = f"source = {json.dumps(source)}"
    old: str | None = None
    for i in range(start + 1, end):
        match = _SOURCE.match(lines[i].rstrip("\r\n"))
        if match:
            old = tomllib.loads(f"v = {match.group('value')}")["v"]
            ending = lines[i][len(lines[i].rstrip("\r\n")) :]
            lines[i] = f"{match.group('indent')}{new}{match.group('rest')}{ending}"
            break
    else:
        lines.insert(start + 1, new + "\n")
    changed = "".join(lines)
    after = _parse(changed, path)
    expected = copy.deepcopy(before)
    expected.setdefault("models", {}).setdefault(entry, {})["source"] = source
    if after != expected:
        raise ConfigError(f"could not change models.{entry}.source in {path} safely; {by_hand}")
    _replace(path, changed)
    return old


def _entry(line: str) -> str | None:
    match = _HEADER.match(line.rstrip("\r\n"))
    if match is None:
        return None
    return match.group("dq") or match.group("sq") or match.group("bare")


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _replace(path: Path, text: str) -> None:
    """Write `text` over `path` in one rename, keeping its permissions."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
