"""Compact text for a small model: containers by compose project, one container in full, its
recent log lines, and a CPU/memory snapshot.

Pure functions from models to strings; nothing here calls Docker. Environment variables appear by
name only. Text that comes from inside a container (log lines, health check output, the command,
Docker's error message) goes through `homelab_common.scrub_text` with the secrets the caller
passes, so known values, `password=...` pairs and URL passwords come out as `***`. Problems are
written in capitals (UNHEALTHY, RESTARTING, EXITED with a non-zero code) so they stand out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from homelab_common import scrub_text

from .client import LogLine
from .models import Container, Image, Usage

__all__ = ["detail", "duration", "logs", "overview", "size", "state", "usage"]

_MAX_ENV_NAMES = 20
_MAX_OUTPUT = 200  # characters of one health check's output
_MAX_LINE = 300  # characters of one log line
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def duration(seconds: float) -> str:
    """A span in the largest unit that fits: "40 s", "12 min", "5 h", "3 days"."""
    s = max(0, int(seconds))
    for unit, size_s in (("day", 86400), ("h", 3600), ("min", 60)):
        if s >= size_s:
            n = s // size_s
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
    return f"{s} s"


def size(n: float) -> str:
    """Bytes in binary units: "512 KiB", "153 MiB", "1.2 GiB"."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit == "GiB" else f"{n:.0f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _at(when: datetime | None, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else "never"


def _since(when: datetime | None, now: datetime) -> float:
    return (now - when).total_seconds() if when else 0.0


def _clean(text: str, secrets: Sequence[str], limit: int) -> str:
    text = " ".join(_ANSI.sub("", scrub_text(text, secrets)).split())
    return text if len(text) <= limit else text[:limit] + " [...]"


def state(c: Container, now: datetime) -> str:
    """The container's state in a few words: uptime, health, exit code, restarts."""
    if c.state == "running":
        words = f"running {duration(_since(c.started, now))}"
        if c.health == "unhealthy":
            words += f", UNHEALTHY ({_checks(c.failing_streak)} in a row)"
        elif c.health:
            words += f", {'health check starting' if c.health == 'starting' else c.health}"
    elif c.state == "restarting":
        words = f"RESTARTING (not running: it keeps exiting), last exit code {c.exit_code}"
    elif c.state == "exited":
        verb = "EXITED" if c.exit_code else "exited"
        words = f"{verb} with code {c.exit_code}, {duration(_since(c.finished, now))} ago"
        if c.oom_killed:
            words += " (killed: out of memory)"
    elif c.state == "created":
        words = "created, never started"
    else:
        words = c.state.upper() if c.state == "dead" else c.state
    if c.restart_count:
        words += f", {c.restart_count} restart{'s' if c.restart_count != 1 else ''}"
    return words


def _checks(n: int) -> str:
    return f"{n} failed check{'s' if n != 1 else ''}"


def _image(c: Container, images: Mapping[str, Image], now: datetime) -> str:
    image = images.get(c.image_id)
    if image is None or image.created is None:
        return f"image {c.image}"
    return f"image {c.image} ({duration(_since(image.created, now))} old)"


def overview(
    containers: Sequence[Container], images: Mapping[str, Image], now: datetime, scope: str = ""
) -> str:
    """Containers grouped by compose project, one line each: state, ports, image and its age."""
    if not containers:
        return f"No containers{scope}."
    projects = sorted({c.project for c in containers if c.project})
    counts = Counter(
        "unhealthy" if c.health == "unhealthy" and c.state == "running" else c.state for c in containers
    )
    counts["running"] += counts["unhealthy"]
    order = ("running", "unhealthy", "restarting", "exited", "created", "paused", "dead")
    tally = ", ".join(f"{counts[s]} {s}" for s in (*order, *sorted(set(counts) - set(order))) if counts[s])
    plural = "s" if len(projects) != 1 else ""
    where = scope or f" in {len(projects)} compose project{plural}"
    lines = [f"{len(containers)} container{'s' if len(containers) != 1 else ''}{where}: {tally}."]
    groups = [(p, [c for c in containers if c.project == p]) for p in projects]
    loose = [c for c in containers if not c.project]
    if loose:
        groups.append(("", loose))
    for project, members in groups:
        title = project or "Not in a compose project"
        lines.append(f"{title} ({len(members)}):")
        keys = Counter(c.key for c in members)
        for c in sorted(members, key=lambda c: (c.service or c.name, c.name)):
            label = c.service if project and keys[c.key] == 1 else c.name
            parts = [state(c, now)]
            if c.ports:
                parts.append("ports " + ", ".join(str(p) for p in c.ports))
            parts.append(_image(c, images, now))
            lines.append(f"- {label}{' (one-off run)' if c.one_off else ''}: " + "; ".join(parts))
    return "\n".join(lines)


def detail(c: Container, image: Image | None, now: datetime, tz: tzinfo, secrets: Sequence[str] = ()) -> str:
    """One container in full: state, health checks, restarts, image, ports, mounts, variable names."""
    named = f"container {c.name}, " if c.key != c.name else ""
    lines = [f"{c.key} ({named}id {c.short_id})"]
    if c.state == "running":
        lines.append(f"State: {state(c, now)}; started {_at(c.started, tz)}")
    elif c.state in {"exited", "dead"}:
        lines.append(f"State: {state(c, now)}; stopped {_at(c.finished, tz)}, started {_at(c.started, tz)}")
    else:
        lines.append(f"State: {state(c, now)}")
    if c.error:
        lines.append(f"Error: {_clean(c.error, secrets, _MAX_OUTPUT)}")
    if c.health:
        lines.append(f"Health: {c.health}, {_checks(c.failing_streak)} in a row; last checks:")
        for check in c.health_log[-3:]:
            output = _clean(check.output, secrets, _MAX_OUTPUT) or "(no output)"
            lines.append(f"- {_at(check.ended, tz)} exit {check.exit_code}: {output}")
    lines.append(f"Restarts: {c.restart_count} (restart policy: {c.restart_policy})")
    if image is not None and image.created is not None:
        built = f", built {_at(image.created, tz)[:10]}, {duration(_since(image.created, now))} old"
    else:
        built = ""
    lines.append(f"Image: {c.image} ({c.image_id.removeprefix('sha256:')[:12]}){built}")
    if c.command:
        lines.append(f"Command: {_clean(c.command, secrets, _MAX_OUTPUT)}")
    lines.append("Ports: " + (", ".join(str(p) for p in c.ports) or "none published"))
    lines.append("Mounts: " + ("; ".join(str(m) for m in c.mounts) or "none"))
    if c.networks:
        lines.append("Networks: " + ", ".join(c.networks))
    if c.compose_file:
        lines.append(f"Compose file: {c.compose_file}")
    names = sorted(c.set_values(image.env if image else {}))
    defaults = len(c.env) - len(names)
    if names or defaults:
        shown = ", ".join(names[:_MAX_ENV_NAMES]) + (" ..." if len(names) > _MAX_ENV_NAMES else "")
        from_image = f"; {defaults} more from the image" if defaults else ""
        lines.append(f"Environment (values hidden): {shown or 'none set'}{from_image}")
    return "\n".join(lines)


def logs(
    c: Container,
    entries: Sequence[LogLine],
    now: datetime,
    tz: tzinfo,
    secrets: Sequence[str] = (),
    max_chars: int = 4000,
) -> str:
    """The newest log lines that fit in `max_chars`, oldest first, with the time each was written."""
    if not entries:
        return f"{c.key} has no log lines ({state(c, now)})."
    rendered: list[tuple[str, str]] = []  # (day, line)
    for when, text in entries:
        local = when.astimezone(tz) if when else None
        stamp = f"{local:%H:%M:%S} " if local else ""
        rendered.append((f"{local:%Y-%m-%d}" if local else "", stamp + _clean(text, secrets, _MAX_LINE)))
    kept: list[tuple[str, str]] = []
    used = 0
    for entry in reversed(rendered):
        used += len(entry[1]) + 1
        if used > max_chars and kept:
            break
        kept.append(entry)
    kept.reverse()
    cut = len(rendered) - len(kept)
    zone = now.astimezone(tz).strftime("%Z")
    lines = [f"Last {len(kept)} log lines of {c.key}, oldest first (times {zone}; secrets hidden):"]
    if cut:
        lines[0] += f" {cut} older lines left out to keep this short."
    shown_day = ""
    for day, line in kept:
        if day and day != shown_day:
            lines.append(f"-- {day}")
            shown_day = day
        lines.append(line)
    return "\n".join(lines)


def usage(
    samples: Sequence[tuple[Container, Usage]], idle: Sequence[Container], now: datetime, scope: str = ""
) -> str:
    """CPU and memory per running container, busiest first, and which containers are not running."""
    if not samples:
        lines = [f"No running containers{scope}."]
    else:
        cpus = max(u.cpus for _, u in samples)
        host = max(u.memory_limit for _, u in samples)
        plural = "s" if len(samples) != 1 else ""
        lines = [
            f"CPU and memory right now of {len(samples)} running container{plural}{scope} "
            f"(host: {cpus} CPUs, {size(host)}; CPU % is of one CPU), busiest first:"
        ]
        for c, u in sorted(samples, key=lambda s: (-s[1].cpu_percent, -s[1].memory)):
            limited = 0 < u.memory_limit < host
            limit = f" of a {size(u.memory_limit)} limit ({u.memory / u.memory_limit:.0%})" if limited else ""
            lines.append(f"- {c.key}: CPU {u.cpu_percent:.1f}%, memory {size(u.memory)}{limit}")
    if idle:
        lines.append("Not running: " + ", ".join(f"{c.key} ({state(c, now)})" for c in idle))
    return "\n".join(lines)
