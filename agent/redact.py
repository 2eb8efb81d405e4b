"""Credentials inside URLs, blanked wherever a URL is shown: error messages, logs, `config check`.

A URL may carry a secret in its userinfo (`http://user:pass@host/`) or its query
(`/mcp?api_key=…`). `redact_url` blanks both in one URL; `redact_urls` does it to every URL in a
text. Secrets named in the config (tokens, headers) are redacted by value in `agent.logs`; this
module catches the ones written inside URLs, which the config keeps as plain strings.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_url", "redact_urls"]

REDACTED = "***"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
_QUERY_PAIR = re.compile(r"([^&=;]+)=([^&;]*)")


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
