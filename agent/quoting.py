"""Answers that reuse the lookup: a short lead by the model, then the list exactly as the tool gave it.

When the turn after a lookup may answer and the lookup's result is a list (two or more item lines),
the policy marks the step as one that may quote (`StepPlan.quote`), and the loop asks it with a stop
sequence at the end of a lead (`LEAD_END`: a colon at the end of a line). A model that introduces a
list stops right there, and the answer is its lead followed by the list as the tool rendered it:
the items are not decoded again token by token (on the 2-core box a 200-token list costs ~12 s to
re-type), and an exact copy cannot misquote. A model that answers otherwise (one fact, a count,
"I don't know", a subset in its own words) is not affected: judging the result stays the model's.

It works for any tool whose text result is a list of lines (`- item`, `* item`, `1. item`,
`#12 item`, grouped under headings that end with a colon); nothing here knows a server. Not here:
asking the model (`agent.loop`), deciding when a step may quote (`agent.policy`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.trace import ToolCallRecord

__all__ = ["LEAD_END", "MIN_ITEMS", "items", "quotable", "quoted_answer"]

LEAD_END = ":\n"
"""Where a lead ends: a line that ends with a colon (the model's list would start on the next)."""

MIN_ITEMS = 2
"""A result with fewer item lines than this is one fact: the model answers it in its own words."""

_ITEM = re.compile(r"^\s*(?:[-*•]\s|\d{1,3}[.)]\s|#\d)")


def items(result: str) -> str | None:
    """The list in a tool result: from its first item to its end, trailing notes such as a count
    included, and the first group's heading when the list is grouped under headings (a single
    heading above the list is the lead's job); None when it holds fewer than `MIN_ITEMS` items."""
    lines = result.strip().splitlines()
    marks = [i for i, line in enumerate(lines) if _ITEM.match(line)]
    if len(marks) < MIN_ITEMS:
        return None
    start = marks[0]
    grouped = any(_heading(line) for line in lines[start:])
    if grouped and start > 0 and _heading(lines[start - 1]):
        start -= 1  # in a grouped list, the first group's heading ("media (2):") belongs to it
    return "\n".join(lines[start:])


def _heading(line: str) -> bool:
    return line.rstrip().endswith(":") and not _ITEM.match(line)


def quotable(records: Sequence[ToolCallRecord]) -> tuple[ToolCallRecord, ...]:
    """Of one step's tool results, those an answer may quote: successful ones holding a list."""
    return tuple(r for r in records if not r.is_error and items(r.result) is not None)


def quoted_answer(lead: str, records: Sequence[ToolCallRecord]) -> str:
    """The model's lead, then each quotable result's list, as the tools gave them."""
    lists = [found for r in records if (found := items(r.result)) is not None]
    return lead.rstrip().removesuffix(":") + ":\n" + "\n\n".join(lists)
