"""Answers that reuse the lookup: a short lead by the model, then the list exactly as the tool gave it.

When the turn after a lookup may answer and the lookup's result is a list (two or more item lines),
the policy marks the step as one that may quote (`StepPlan.quote`), and the loop asks it with a stop
sequence at the end of a lead (`LEAD_END`: a colon at the end of a line). A model that introduces a
list stops right there, and the answer is its lead followed by the list as the tool rendered it:
the items are not decoded again token by token (on the 2-core box a 200-token list costs ~12 s to
re-type), and an exact copy cannot misquote. A model that answers otherwise (one fact, a count,
"I don't know", a subset in its own words) is not affected: judging the result stays the model's.
A question that picks from the list (a word of it the call does not account for is in some items
and not in others: "Which containers are unhealthy?" of every container) offers no list to quote:
the model writes the part it picks (`picks_from`).

When the list answers the question as asked, not even a lead is needed (`direct_answer`): every
word of the question that says what is wanted is in the call itself (the tool's name, its
parameters' names, the arguments the model passed: "What is overdue in Homelab?" is all in
`overdue_tasks(project="Homelab")`). Then the tool's result is the answer, as it gave it, and the
step asks no model: the answer is there as soon as the lookup is (on the 2-core box the model
would first read ~300 tokens of the result, ~7 s). A word the call does not account for (a task's
title, a state such as "unhealthy", a person the call did not filter on, "how many") means the
question asks about part of the list, or about something else: then the model judges, as above.
Neither the tool's description nor the result's headings count: both name more than the call
filtered on ("1 unhealthy" in a summary of every container).

And when a name the question says (a word with a capital or a digit in it, past its first word:
"k3s", "Nextcloud", "Frank") is nowhere in the call nor in its results, the lookup plainly missed:
the list is not offered for quoting, and the loop tells the model which names the results do not
mention before it answers (`unmentioned`), so it can look again instead of answering from the
wrong list.

A question in parts ("Is Jellyfin healthy, and who is moving it to the GPU node?") gets one more
look the same way: while a later part's words are not all in the calls and results so far, and
the run has made fewer lookups than the question has parts, the next step must call a tool and is
told which part is still open (`open_part`): a small model otherwise answers the second part from
the first part's results (or from nothing), often across servers.

It works for any tool whose text result is a list of lines (`- item`, `* item`, `1. item`,
`#12 item`, grouped under headings that end with a colon); nothing here knows a server. Not here:
asking the model (`agent.loop`), deciding when a step may quote (`agent.policy`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import snowballstemmer

from agent.messages import ToolSpec
from agent.trace import ToolCallRecord

__all__ = [
    "LEAD_END",
    "MIN_ITEMS",
    "QuoteMode",
    "direct_answer",
    "items",
    "open_part",
    "parts",
    "picks_from",
    "quotable",
    "quoted_answer",
    "unmentioned",
]

QuoteMode = Literal["direct", "lead", "off"]
"""`direct`: a list that answers the question as asked is the answer, else as `lead`; `lead`: a
lead by the model, then the list as given; `off`: the model writes every answer itself."""

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


def quotable(
    records: Sequence[ToolCallRecord], question: str, tools: Sequence[ToolSpec]
) -> tuple[ToolCallRecord, ...]:
    """Of one step's tool results, those an answer to `question` may quote: successful ones holding
    a list the question does not pick from (`picks_from`)."""
    by_name = {t.name: t for t in tools}
    return tuple(
        r
        for r in records
        if not r.is_error
        and (found := items(r.result)) is not None
        and not picks_from(question, r, by_name.get(r.name), found)
    )


def picks_from(question: str, record: ToolCallRecord, tool: ToolSpec | None, listed: str) -> bool:
    """Whether `question` asks for part of the list `listed`: a word of it that the call does not
    account for is in some of the list's items and not in others ("Which containers are
    unhealthy?" of every container, some of them unhealthy). Then the whole list is not the answer,
    however the model's lead begins."""
    said = _stems(_call_words(record, tool, described=False))
    wanted = _stems([question]) - said
    if not wanted:
        return False
    lines = [_stems([line]) for line in listed.splitlines() if _ITEM.match(line)]
    return any(0 < sum(word in line for line in lines) < len(lines) for word in wanted)


def quoted_answer(lead: str, records: Sequence[ToolCallRecord]) -> str:
    """The model's lead, then each quotable result's list, as the tools gave them."""
    lists = [found for r in records if (found := items(r.result)) is not None]
    return lead.rstrip().removesuffix(":") + ":\n" + "\n\n".join(lists)


# Words that say nothing about what is wanted: function words, question words, ways of asking.
_STOP = frozenset(
    (
        "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "anything", "are",
        "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could",
        "did", "do", "does", "doing", "down", "during", "each", "either", "else", "ever", "every", "few",
        "for", "from", "further", "get", "give", "go", "going", "got", "had", "has", "have", "having", "he",
        "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
        "just", "know", "let", "like", "list", "look", "me", "mine", "more", "most", "my", "need", "no",
        "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "out",
        "over", "own", "please", "right", "same", "see", "she", "should", "show", "so", "some", "such",
        "tell", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
        "those", "through", "to", "too", "under", "until", "up", "us", "very", "want", "was", "we", "were",
        "what", "whats", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will",
        "with", "would", "you", "your", "yours", "currently", "moment", "today", "find", "search",
    )
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")
_STEMMER = snowballstemmer.stemmer("english")


def _stems(texts: Iterable[str]) -> set[str]:
    words = [w.casefold().replace("'", "") for text in texts for w in _WORD.findall(text)]
    return set(_STEMMER.stemWords([w for w in words if w not in _STOP]))


def _schema_words(schema: Any, *, described: bool = True) -> list[str]:
    """Parameter names, and their descriptions with `described` (never `enum` values: a name the
    call did not pass is not in it)."""
    if not isinstance(schema, dict):
        return []
    found = [str(schema.get("description", ""))] if described else []
    for name, sub in (schema.get("properties") or {}).items():
        found += [name.replace("_", " "), *_schema_words(sub, described=described)]
    return found


def direct_answer(question: str, record: ToolCallRecord, tool: ToolSpec | None) -> str | None:
    """`record`'s result as the answer to `question` when it is a whole list (not an error, not cut)
    and every word of the question is in the call (tool name, parameter names, arguments); else None."""
    if record.is_error or record.truncated or tool is None or items(record.result) is None:
        return None
    said = _stems(_call_words(record, tool, described=False))
    return record.result.strip() if _stems([question]) <= said else None


def _call_words(record: ToolCallRecord, tool: ToolSpec | None, *, described: bool = True) -> list[str]:
    """The call's words: the tool's name, its parameters' names and the arguments; with
    `described`, also the tool's and the parameters' descriptions."""
    schema = _schema_words(tool.parameters, described=described) if tool is not None else []
    about = [tool.description] if tool is not None and described else []
    return [record.name.replace("_", " "), *about, *schema, *(str(v) for v in record.arguments.values())]


def _names(question: str) -> list[str]:
    """The words of `question` that look like names: a digit in them, or a capital past the start."""
    words = _WORD.findall(question)
    return [
        w
        for i, w in enumerate(words)
        if any(c.isdigit() for c in w) or (i > 0 and w[:1].isupper()) or (len(w) > 1 and w.isupper())
    ]


def unmentioned(question: str, records: Sequence[ToolCallRecord], tools: Sequence[ToolSpec]) -> list[str]:
    """The names `question` says that neither the calls nor their results mention (a lookup that
    missed what was asked); [] when there is nothing to check or nothing missing."""
    if not records or all(r.is_error for r in records):
        return []
    by_name = {t.name: t for t in tools}
    seen = _stems([text for r in records for text in (*_call_words(r, by_name.get(r.name)), r.result)])
    return [w for w in dict.fromkeys(_names(question)) if not _stems([w]) <= seen]


_Q = r"(?:who|what|which|when|where|why|how|is|are|does|do|did|has|have|can|could|was|were|will|should)"
_PARTS = re.compile(rf"(?:,\s*and\s+|;\s*|\?\s+|\s+and\s+)(?={_Q}\b)", re.IGNORECASE)
_ASKING = frozenset({"mani", "much"})  # stems of "how many", "how much": how it asks, not what


def parts(question: str) -> list[str]:
    """The questions `question` asks, in order: split where a new question starts after "and", a
    comma, a semicolon or a question mark ("Is X up, and who is on it?"); one part if it is one."""
    found = [p.strip(" ,;") for p in _PARTS.split(question.strip())]
    found = [p for p in found if len(p.split()) >= 3]
    return found if len(found) > 1 else [question.strip()]


def open_part(
    question: str, records: Sequence[ToolCallRecord], tools: Sequence[ToolSpec], lookups: int
) -> str | None:
    """The first part of `question` after the first whose words the calls and results so far
    (`records`, from `lookups` lookup turns) do not all say, while there were fewer lookups than
    parts; None otherwise (one part, every part covered, or a lookup per part already made)."""
    asked = parts(question)
    if len(asked) < 2 or lookups >= len(asked) or not records or all(r.is_error for r in records):
        return None
    by_name = {t.name: t for t in tools}
    seen = _stems([text for r in records for text in (*_call_words(r, by_name.get(r.name)), r.result)])
    return next((p for p in asked[1:] if not (_stems([p]) - _ASKING) <= seen), None)
