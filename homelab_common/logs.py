"""structlog to stderr, console or JSON, with secrets redacted from every event.

Shared by the agent and the tool servers (each entry point calls `configure_logging` once; library
modules only call `structlog.get_logger`). The redaction rules live in `homelab_common.redact`
(the Docker server passes container log lines through the same rules).
Stdout is left alone: it belongs to answers and to the stdio MCP transport.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from .redact import REDACTED, is_secret_key, known_secrets, scrub

__all__ = ["REDACTED", "configure_logging", "redactor"]


def redactor(secrets: Iterable[str]) -> structlog.types.Processor:
    """A processor that blanks secret-looking keys, `key=value` secrets, URL passwords and every
    occurrence of the known `secrets` (the rules of `homelab_common.redact`)."""
    known = known_secrets(secrets)

    def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            event[key] = REDACTED if is_secret_key(key) else scrub(value, known)
        return event

    return redact


class _Stderr:
    """Whatever `sys.stderr` is at the time of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "warning", fmt: str = "console", secrets: Iterable[str] = ()) -> None:
    """Send structlog (and stdlib logging) to stderr at `level`, as `fmt`, redacting `secrets`."""
    numeric = logging.getLevelName(level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redactor(secrets),
            structlog.processors.format_exc_info
            if fmt == "json"
            else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)
    for noisy in ("httpx", "httpx2", "httpcore", "mcp"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
