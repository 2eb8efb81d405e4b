"""The board's own names in the tool schemas, so a small model writes a project or person that exists.

`Names.of(index)` collects the projects, people, columns and tags of the live board; `with_names`
puts them into a tool's input schema: as an `enum` (mode "enum": a grammar-constrained model can
then only write a real name) or as a list in the parameter's description (mode "list"). Long lists
(over `MAX_VALUES`) are left out, so a large board does not blow up the prompt. Nothing here reads
Kanboard: the server hands in the index.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from mcp_types import Tool as MCPTool

from .index import BoardIndex

__all__ = ["MAX_VALUES", "Names", "NamesMode", "with_names"]

NamesMode = Literal["enum", "list", "off"]
MAX_VALUES = 40  # a parameter with more names than this gets none


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
        columns = dict.fromkeys(title for titles in index.columns.values() for title in titles)
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
    for parameter, prop in schema.get("properties", {}).items():
        values = by_parameter.get(parameter)
        if values and len(values) <= MAX_VALUES:
            if mode == "enum":
                prop["enum"] = list(values)
            else:
                prop["description"] = "One of: " + ", ".join(values)
    return tool.model_copy(update={"input_schema": schema})
