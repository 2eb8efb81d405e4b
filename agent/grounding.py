"""Arguments the model cannot invent: a name from a closed list must be one the run has seen.

Servers that know their world list its names: in the tool's MCP `_meta` under `NAMES_META` (the
Kanboard server lists every project, person and column of the board there; `agent.toolsets.mcp`
keeps them in `ToolSpec.names`, out of the prompt, however many there are), or as an `enum` in the
schema. A small model then writes a real name, but not always the right one: asked "who is
renewing the TLS cert?" it calls `tasks_of(person="Site Admin")`, the first name on the list;
asked about one person's overdue work it scopes `overdue_tasks` to a project nobody mentioned.
`ground` admits, for each such parameter, only the names the conversation has said so far (the
user's words, and later the tool results), as an `enum` of those: whole words, so "Sam" admits
"Sam Porter" and not "Samantha Reyes". A word the tools' own descriptions use ("open", "list",
"days") says nothing on its own: "Which open tasks are tagged safety?" does not name the project
"Open Days" nor "Photograph & List" a column; a name made only of such words ("Done", "Open Days")
must be said whole. An optional argument left with no named value drops out of
the schema; a tool whose required argument has none is not offered for this turn. The model still
sees every tool in its prompt (so a cached prompt stays valid, and a board with 300 names costs
the prompt what one with 10 does); the grounded schemas are what its call must fit (a grammar
enforces them locally).

This module only narrows schemas. It calls no model and no tool.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from agent.messages import ToolSpec

__all__ = ["NAMES_META", "ground", "mentioned", "vocabulary", "words"]

NAMES_META = "io.homelab-agent/names"
"""The MCP `_meta` key of a tool under which a server lists {parameter: [every name it takes]}."""

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TRIVIAL = frozenset({"the", "and", "for", "of", "on", "in", "to", "a", "an", "my", "our", "de", "la"})


def words(text: str) -> set[str]:
    """The lower-case words of `text`, with "Alice's" also as "alice"."""
    found = {w.casefold() for w in _WORD.findall(text)}
    return found | {w[:-1] for w in found if w.endswith("s") and len(w) > 3}


def mentioned(value: str, said: set[str], common: frozenset[str] = frozenset()) -> bool:
    """Whether `value` (a name: "Dave Okafor", "Q4 Planning") was said: any of its telling words,
    or, when each of its words is `common` (the tools' own vocabulary), every one of them."""
    own = [
        words(w) for w in _WORD.findall(value) if w.casefold() not in _TRIVIAL and (len(w) > 1 or w.isdigit())
    ]
    telling = [forms for forms in own if not forms & common]
    if telling:
        return any(forms & said for forms in telling)
    return bool(own) and all(forms & said for forms in own)


def vocabulary(tools: Sequence[ToolSpec]) -> frozenset[str]:
    """The words the tools' descriptions and their parameters' descriptions use."""
    found: set[str] = set()
    for tool in tools:
        found |= words(tool.description or "")
        for prop in (tool.parameters.get("properties") or {}).values():
            if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                found |= words(prop["description"])
    return frozenset(found)


def ground(tools: Sequence[ToolSpec], texts: Iterable[str]) -> list[ToolSpec]:
    """`tools` with each named parameter (`ToolSpec.names`, or a string `enum`) admitting only the
    values `texts` mention (see the module doc).

    Tools without such parameters come back unchanged (the same objects).
    """
    said: set[str] = set()
    for text in texts:
        said |= words(text)
    common = vocabulary(tools)
    grounded: list[ToolSpec] = []
    for tool in tools:
        properties: dict[str, Any] = tool.parameters.get("properties") or {}
        named: dict[str, Sequence[str]] = {
            name: prop["enum"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and _string_enum(prop.get("enum"))
        }
        named |= {name: values for name, values in tool.names.items() if name in properties}
        if not named:
            grounded.append(tool)
            continue
        schema = copy.deepcopy(tool.parameters)
        required = set(schema.get("required") or [])
        offered = True
        for name, values in named.items():
            kept = [v for v in values if mentioned(v, said, common)]
            if kept:
                schema["properties"][name]["enum"] = kept
            elif name in required:
                offered = False
            else:
                del schema["properties"][name]
        if offered:
            grounded.append(tool.model_copy(update={"parameters": schema}))
    return grounded


def _string_enum(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)
