"""How names and words are compared: one stemming, whole-word people, close matches for a miss.

`stems` is the one stemming of the Kanboard tools (snowball, English, function words dropped):
the index ranks tasks with it and a loose title is matched with it. `same_person` says whether a
typed name names a user by whole words ("Sam" is Sam Porter, never Samantha). `pick` takes a name
from a few options; `miss` is the error for a name that is none of them, naming close matches so
the model can retry. Pure functions over text: nothing here reads Kanboard or knows the board.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

import snowballstemmer

from .errors import KanboardNotFoundError
from .models import User

__all__ = ["MAX_LISTED", "close_matches", "miss", "pick", "same_person", "same_words", "stems"]

T = TypeVar("T")
MAX_LISTED = 12  # names listed in one error at most

_WORD = re.compile(r"[^\W_]+(?:[-.'][^\W_]+)*", re.UNICODE)
_NAME_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("english")
# Words that say what to show about a task rather than which task: they must not pick the task.
_STOP = frozenset(
    (
        "a", "about", "after", "all", "also", "am", "an", "and", "any", "anything", "are", "as", "at", "be",
        "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "for",
        "from", "get", "give", "got", "has", "have", "having", "he", "her", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "just", "let", "list", "me", "my", "of", "on", "or", "our", "please",
        "right", "said", "say", "says", "she", "should", "show", "so", "some", "tell", "than", "that", "the",
        "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was", "we",
        "were", "what", "whats", "when", "where", "which", "while", "who", "whom", "whose", "why", "will",
        "with", "would", "you", "your", "yet", "still", "now", "currently", "task", "tasks", "ticket",
        "tickets", "card", "cards", "item", "items", "thing", "things", "comment", "comments", "description",
        "subtask", "subtasks", "project", "projects", "board", "column", "status", "latest", "last", "recent",
        "newest", "mention", "mentions", "mentioned", "assigned", "assignee", "owner", "owns", "owned",
        "working", "work", "due", "date", "dates", "deadline", "anyone", "someone", "somebody", "find",
        "search", "look",
    )
)  # fmt: skip


def words(text: str) -> list[str]:
    """The words of `text` as the index splits them ("wg-easy" and "v1.2" stay whole)."""
    return _WORD.findall(text)


def stems(text: str) -> list[str]:
    """The stemmed words of `text` that can pick a task (no function words), in order."""
    kept = [w.casefold().replace("'", "") for w in words(text)]
    kept = [w for w in kept if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return list(_STEMMER.stemWords(kept))


def same_words(text: str, names: Iterable[str], share: float = 0.5) -> list[str]:
    """Names holding at least `share` of the stems of `text`, most shared first."""
    wanted = set(stems(text))
    if not wanted:
        return []
    scored = [(len(wanted & set(stems(name))) / len(wanted), name) for name in names]
    return [name for score, name in sorted(scored, key=lambda s: -s[0]) if score >= share]


def close_matches(text: str, names: Iterable[str]) -> list[str]:
    """Up to five names that look like `text` (case-insensitive), or share most of its words."""
    names = list(names)
    by_key = {name.casefold(): name for name in names}
    keys = difflib.get_close_matches(text.casefold(), list(by_key), n=5, cutoff=0.6)
    contains = [key for key in by_key if text.casefold() in key and key not in keys]
    similar = [by_key[key] for key in keys + contains]
    similar += [name for name in same_words(text, names) if name not in similar]
    return similar[:5]


def miss(kind: str, text: str, names: list[str]) -> KanboardNotFoundError:
    """The error for `text` naming no `kind`: close matches, else the few there are."""
    similar = close_matches(text, names)
    if similar:
        hint = "Did you mean: " + ", ".join(similar) + "?"
    elif len(names) > MAX_LISTED:  # a few of a thousand titles, picked by the alphabet, say nothing
        hint = f"None of the {len(names)} {kind}s is called that."  # (small models listed them as the answer)
    elif names:
        hint = f"Known {kind}s: {', '.join(sorted(names, key=str.casefold))}."
    else:
        hint = f"There are no {kind}s."
    return KanboardNotFoundError(f'No {kind} "{text}". {hint}')


def pick(kind: str, text: str, options: Mapping[str, T]) -> T:
    """The option whose name equals `text` case-insensitively, else a unique one containing it."""
    wanted = text.strip().casefold()
    for name, value in options.items():
        if name.casefold() == wanted:
            return value
    partial = [value for name, value in options.items() if wanted and wanted in name.casefold()]
    if len(partial) == 1:
        return partial[0]
    raise miss(kind, text, list(options))


def same_person(text: str, user: User) -> bool:
    """Whether `text` names `user` by whole words of their name or username ("Sam", "Sam Porter",
    "porter"), not by a part of one ("Sam" is not Samantha)."""
    wanted = _NAME_WORD.findall(text.casefold())
    own = set(_NAME_WORD.findall(f"{user.name} {user.username}".casefold()))
    return bool(wanted) and set(wanted) <= own
