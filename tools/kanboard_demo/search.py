"""The part of Kanboard's task filter language the demo board understands.

`status:open|closed`, `assignee:me|nobody|<name>`, `creator:`, `tag:`, `column:`, `swimlane:`,
`category:`, `color:`, `priority:`, `title:`, `description:`, `due:` (with <, <=, >, >= and
YYYY-MM-DD, today, tomorrow, yesterday), `#12` or a bare number for an id, and bare words for the
title. Filters are ANDed. Anything Kanboard has beyond this (links, dates other than due) matches
nothing rather than everything, which is the safer surprise.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .board import DemoBoard, Row

__all__ = ["matches", "parse_query"]

_TOKEN = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)')
_DAY = timedelta(days=1)


def parse_query(query: str) -> list[tuple[str, str]]:
    """(field, value) pairs; bare words get the field "title" (or "id" for #12 / 12)."""
    tokens: list[tuple[str, str]] = []
    for field, quoted, plain, bare_quoted, bare in _TOKEN.findall(query):
        if field:
            tokens.append((field.lower(), quoted or plain))
            continue
        word = bare_quoted or bare
        digits = word.lstrip("#")
        tokens.append(("id", digits) if digits.isdigit() else ("title", word))
    return tokens


def matches(board: DemoBoard, task: Row, tokens: list[tuple[str, str]], me: int | None) -> bool:
    """True when `task` passes every filter; `me` is the calling user's id (None for the app API)."""
    return all(_match(board, task, field, value, me) for field, value in tokens)


def _like(value: str, *candidates: Any) -> bool:
    wanted = value.casefold()
    return any(wanted in str(c).casefold() for c in candidates if c)


def _same(value: str, *candidates: Any) -> bool:
    return any(value.casefold() == str(c).casefold() for c in candidates if c)


def _person(board: DemoBoard, user_id: int, value: str, me: int | None) -> bool:
    if value.lower() == "me":
        return me is not None and user_id == me
    if value.lower() in {"nobody", "anybody"}:
        return (user_id == 0) == (value.lower() == "nobody")
    if value.isdigit():
        return user_id == int(value)
    user = board.users.get(user_id)
    return user is not None and _like(value, user["username"], user["name"])


def _match(board: DemoBoard, t: Row, field: str, value: str, me: int | None) -> bool:
    if field == "status":
        wanted = {"open": 1, "closed": 0}.get(value.lower())
        return wanted is not None and t["is_active"] == wanted
    if field == "assignee":
        return _person(board, t["owner_id"], value, me)
    if field == "creator":
        return _person(board, t["creator_id"], value, me)
    if field == "id":
        return value.lstrip("#").isdigit() and t["id"] == int(value.lstrip("#"))
    if field == "title":
        return _like(value, t["title"])
    if field in {"description", "desc"}:
        return _like(value, t["description"])
    if field == "tag":
        return any(_same(value, board.tags[tag_id]["name"]) for tag_id in t["tags"])
    if field == "column":
        return _same(value, board.columns[t["column_id"]]["title"])
    if field == "swimlane":
        return _same(value, board.swimlanes[t["swimlane_id"]]["name"])
    if field == "category":
        category = board.categories.get(t["category_id"])
        return (value.lower() == "none" and category is None) or (
            category is not None and _same(value, category["name"])
        )
    if field == "color":
        return _same(value, t["color_id"], board.colors.get(t["color_id"], [""])[0])
    if field == "priority":
        return value.isdigit() and t["priority"] == int(value)
    if field in {"due", "date_due"}:
        return _date(board, t["date_due"], value)
    return False


def _date(board: DemoBoard, stamp: int, value: str) -> bool:
    operator = re.match(r"<=|>=|<|>", value)
    op = operator.group(0) if operator else "="
    text = value[len(op) :] if operator else value
    now = datetime.fromtimestamp(board.clock(), board.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"today": now, "tomorrow": now + _DAY, "yesterday": now - _DAY}
    try:
        day = named.get(text.lower()) or datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=board.tz)
    except ValueError:
        return False
    if not stamp:
        return False
    start, end = day.timestamp(), (day + _DAY).timestamp()
    return {
        "<": stamp < start,
        "<=": stamp < end,
        ">": stamp >= end,
        ">=": stamp >= start,
        "=": start <= stamp < end,
    }[op]
