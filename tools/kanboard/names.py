"""The board's own names in the tool schemas, so a small model writes a project or person that exists.

`Names.of(index)` collects the projects, people, columns and tags of the live board; `with_names`
puts them into a tool: every name, however many, in the tool's `_meta` under `NAMES_META`
(`{"person": [...], "project": [...]}`: homelab-agent keeps them out of the prompt and lets a
grammar admit the ones a question names, so a board with 300 names costs no more prompt than one
with 10), and, for other MCP clients, in the input schema too: as an `enum` (mode "enum") or as a
list in the parameter's description (mode "list"), there only up to `MAX_VALUES` names, so a
large board does not blow up their prompt. Nothing here reads Kanboard: the server hands in the
index.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from mcp_types import Tool as MCPTool

from .index import BoardIndex

__all__ = ["MAX_VALUES", "NAMES_META", "Names", "NamesMode", "with_names"]

NamesMode = Literal["enum", "list", "off"]
MAX_VALUES = 40  # a parameter with more names than this gets none in its schema (all in `_meta`)
NAMES_META = "io.homelab-agent/names"  # the `_meta` key: {parameter: [every name it may take]}


@dataclass(frozen=True)
class Names:
    """What things are called on this board."""

    projects: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, index: BoardIndex) -> Names:
        """The names on the board `index` holds: active projects and people, columns, tags in use."""
        columns = dict.fromkeys(column.title for columns in index.columns.values() for column in columns)
        tags = dict.fromkeys(tag for entry in index.entries for tag in entry.extras.tags)
        return cls(
            projects=tuple(p.name for p in index.projects if p.is_active),
            people=tuple(u.name or u.username for u in index.users if u.is_active),
            columns=tuple(columns),
            tags=tuple(sorted(tags, key=str.casefold)),
        )


def with_names(tool: MCPTool, names: Names, mode: NamesMode) -> MCPTool:
    """`tool` with the board's names in the schemas of its `project`, `person` and `column` parameters."""
    if mode == "off":
        return tool
    schema = copy.deepcopy(tool.input_schema)
    by_parameter = {"project": names.projects, "person": names.people, "column": names.columns}
    every: dict[str, list[str]] = {}
    for parameter, prop in schema.get("properties", {}).items():
        values = by_parameter.get(parameter)
        if not values:
            continue
        every[parameter] = list(values)
        if len(values) <= MAX_VALUES:
            if mode == "enum":
                prop["enum"] = list(values)
            else:
                prop["description"] = "One of: " + ", ".join(values)
    if not every:
        return tool.model_copy(update={"input_schema": schema})
    meta = {**(tool.meta or {}), NAMES_META: every}
    return tool.model_copy(update={"input_schema": schema, "meta": meta})
