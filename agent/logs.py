"""structlog to stderr, console or JSON, with secrets redacted from every event.

Redacted: the values of secret-looking keys, every known secret (the config's tokens and headers)
wherever it appears, and credentials written inside URLs (`agent.redact`).

Entry points call `configure_logging` once; library modules only call `structlog.get_logger`.
Stdout is left alone: it belongs to answers and to the stdio MCP transport.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from agent.redact import redact_urls

__all__ = ["REDACTED", "configure_logging", "redactor"]

REDACTED = "***"
_SECRET_KEYS = re.compile(
    r"(?:^|[_-])(token|password|passwd|secret|authorization|api[_-]?key|cookie)(?:$|[_-])", re.IGNORECASE
)  # "api_key", "bearer_token", "Authorization" — but not "tokens_in"


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return redact_urls(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v, secrets) for v in value)
    return value


def redactor(secrets: Iterable[str]) -> structlog.types.Processor:
    """A processor that blanks secret-looking keys and every occurrence of the known `secrets`."""
    known = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))

    def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            event[key] = REDACTED if _SECRET_KEYS.search(key) else _scrub(value, known)
        return event

    return redact


class _RedactingFormatter(logging.Formatter):
    """The standard format, with known secrets and URL credentials blanked from the whole line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(logging.BASIC_FORMAT)
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        return str(_scrub(super().format(record), self._secrets))


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
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,  # tracebacks become text before they are redacted
            redactor(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:  # libraries' own log lines, tracebacks included
        handler.setFormatter(_RedactingFormatter(secrets))
    for noisy in ("httpx", "httpx2", "httpcore", "mcp"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
