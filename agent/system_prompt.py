"""The system prompt: the packaged one, or the user's file (`agent.system_prompt`), dated each run.

A prompt is a template: `{today}` and `{timezone}` are filled in when a run starts (a server runs
for days), everything else is used as written, braces included. The file is read once, when the
agent is assembled (`agent.app`). The loop adds the servers' instructions after it; this module
knows nothing of tools or models.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.exceptions import ConfigError

__all__ = ["default_system_prompt", "fill_prompt", "read_prompt"]


def read_prompt(path: str | Path | None) -> str:
    """The prompt template in the file at `path`, or the packaged one when `path` is None.

    Raises:
        ConfigError: the file cannot be read, or is empty.
    """
    if path is None:
        return resources.files("agent.prompts").joinpath("system.md").read_text(encoding="utf-8")
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"agent.system_prompt: cannot read {path}: {why}") from None
    if not text.strip():
        raise ConfigError(f"agent.system_prompt: {path} is empty")
    return text


def fill_prompt(template: str, timezone: str | None = None, now: datetime | None = None) -> str:
    """`template` with `{today}` (e.g. "Monday 2026-11-23") and `{timezone}` filled in."""
    now = now or datetime.now(ZoneInfo(timezone) if timezone else None)
    zone = timezone or now.astimezone().tzname() or ""
    return template.replace("{today}", now.strftime("%A %Y-%m-%d")).replace("{timezone}", zone)


def default_system_prompt(timezone: str | None = None, now: datetime | None = None) -> str:
    """The packaged system prompt with today's date filled in."""
    return fill_prompt(read_prompt(None), timezone, now)
