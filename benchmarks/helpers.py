"""Small helpers the benchmark scripts share: a free port, a process tree's memory, file names from
labels, and the progress line of a question runner (what load clients share is in `load`).

Each is written once here; the scripts keep what they measure and how they print it. Nothing here
runs a model, starts a server or scores an answer.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the helpers import only the standard library: Open WebUI's venv runs them too
    import psutil

    from benchmarks.runner import Outcome

__all__ = ["free_port", "progress", "slug", "tree_rss"]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss(proc: psutil.Process, seen: set[int] | None = None, marked: str = "") -> int:
    """Bytes of RSS of `proc` and all its children (0 once it is gone).

    With `seen`, the pids of the children whose command line contains `marked` are added to it
    (the MCP server processes a soak counts).
    """
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
            if seen is not None and p.pid != proc.pid and marked in " ".join(p.cmdline()):
                seen.add(p.pid)
    return total


def slug(label: str) -> str:
    """`label` as part of a file name: runs of anything but letters, digits, `.`, `+`, `-` become `-`."""
    return re.sub(r"[^a-zA-Z0-9.+-]+", "-", label).strip("-")


def progress(partial: Path | None = None) -> Callable[[str, Outcome], None]:
    """A runner's `on_outcome`: one line per answer on stderr, and each outcome appended to `partial`
    (JSON lines) so a run cut short still leaves its answers."""

    def show(label: str, o: Outcome) -> None:
        mark = "ok " if o.correct else "BAD"
        answer = " ".join((o.error or o.answer).split())[:80]
        tools = ",".join(o.tools)[:40]
        print(
            f"{mark} {o.id:20s} {label[:28]:28s} {o.latency_s:6.1f}s {o.steps} st {tools:40s} {answer}",
            file=sys.stderr,
            flush=True,
        )
        if partial is not None:
            with partial.open("a") as f:
                f.write(json.dumps({"label": label, **o.model_dump(mode="json")}) + "\n")

    return show
