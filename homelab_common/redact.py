"""Blanking secrets in structured data and in free text, the same way everywhere.

Three rules, applied by our own logs (`homelab_common.logs`) and by tool servers to text they pass on (a
container's log lines, its health check output):

- every occurrence of a known secret value becomes `***`;
- the value under a key that looks secret (token, password, secret, authorization, api key,
  cookie) becomes `***`: in a mapping, and in text written `key=value`, `key: value` or
  `"key": "value"` (`Authorization: Bearer abc` keeps `Bearer`);
- a URL's credentials become `***`: its userinfo (`scheme://user:password@host`, or a token as
  the user name) and every query value (`/mcp?api_key=…`), wherever a URL is shown.

It does not decide which values are secret (callers pass them) and imports nothing of the agent
or the tools, so both can use it. Short values (under 4 characters) are never treated as known
secrets: blanking every "1" or "on" would ruin the text and protect nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["REDACTED", "is_secret_key", "known_secrets", "redact_url", "redact_urls", "scrub", "scrub_text"]

REDACTED = "***"
MIN_SECRET_LENGTH = 4

_WORDS = r"token|password|passwd|pwd|secret|authorization|api[_.-]?key|cookie|credentials?"
_SECRET_KEY = re.compile(rf"(?:^|[_.-])({_WORDS})(?:$|[_.-])", re.IGNORECASE)
# "DB_PASSWORD=x", "api-key: x", '"token": "x"', "Authorization: Bearer x" — not "tokens_in=812"
_KEY_VALUE = re.compile(
    rf"""(?<![A-Za-z0-9])((?:[A-Za-z0-9]+[_.-])*(?:{_WORDS})(?:[_.-][A-Za-z0-9]+)*)"""
    r"""(["']?\s*[:=]\s*["']?)((?:Bearer|Basic|Token)\s+)?([^\s"',;&]+)""",
    re.IGNORECASE,
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
_QUERY_PAIR = re.compile(r"([^&=;]+)=([^&;]*)")


def is_secret_key(key: str) -> bool:
    """Whether a key or variable name looks like it holds a secret ("api_key", "DB_PASSWORD")."""
    return _SECRET_KEY.search(key) is not None


def known_secrets(values: Iterable[str], min_length: int = MIN_SECRET_LENGTH) -> tuple[str, ...]:
    """Distinct values worth blanking, longest first (so a secret inside another goes too)."""
    return tuple(sorted({v for v in values if len(v) >= min_length}, key=len, reverse=True))


def scrub_text(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with known `secrets`, secret-looking `key=value` values and URL passwords blanked.

    `secrets` should come from `known_secrets` (long enough, longest first).
    """
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_VALUE.sub(_blank_value, redact_urls(text))


def _blank_value(match: re.Match[str]) -> str:
    key, separator, scheme, value = match.groups()
    return f"{key}{separator}{scheme or ''}{REDACTED if value != REDACTED else value}"


def scrub(value: Any, secrets: Sequence[str] = ()) -> Any:
    """`value` with every string scrubbed (`scrub_text`), recursively through dicts, lists and
    tuples, and the values under secret-looking keys replaced by `***`."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_key(str(k)) else scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v, secrets) for v in value)
    return value


def redact_url(url: str) -> str:
    """`url` with its userinfo and every query value replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:  # "user:password@" or a token as the user name: all of it goes
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = _QUERY_PAIR.sub(lambda m: f"{m.group(1)}={REDACTED}", parts.query) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls(text: str) -> str:
    """`text` with every URL in it passed through `redact_url`."""
    if "://" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = len(url) - len(url.rstrip(".,;:!?)]}"))  # sentence punctuation after the URL
        return redact_url(url[: len(url) - tail]) + url[len(url) - tail :]

    return _URL.sub(one, text)
