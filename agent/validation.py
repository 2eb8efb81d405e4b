"""Is this tool call valid for these tools? One answer, for the loop, the router and the benchmarks.

A call is invalid when it names no offered tool, passes an argument the tool's schema does not
list (schemas rarely say `additionalProperties: false`, but an invented filter is a mistake), or
breaks the schema. The problem comes back as a `CallProblem` whose message is written for the
model: what is wrong and what the tool takes. This module runs nothing and parses nothing.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema

from agent.messages import ToolCall, ToolSpec

__all__ = ["CallProblem", "check_call"]

_VALIDATORS_KEPT = 256  # compiled schemas; grounded schemas make new ones per question
_validators: OrderedDict[str, Any] = OrderedDict()


@dataclass(frozen=True)
class CallProblem:
    """Why a call cannot run: a short `kind` (a metrics label) and a message for the model."""

    kind: Literal["unknown_tool", "invalid_arguments"]
    message: str


def check_call(call: ToolCall, tools: Sequence[ToolSpec]) -> CallProblem | None:
    """What is wrong with `call` among `tools`, or None when it may run."""
    spec = next((t for t in tools if t.name == call.name), None)
    if spec is None:
        names = ", ".join(t.name for t in tools) or "none"
        return CallProblem("unknown_tool", f"there is no tool named {call.name!r}; the tools are: {names}")
    properties = spec.parameters.get("properties")
    problems: list[str] = []
    if isinstance(properties, dict) and not spec.parameters.get("additionalProperties"):
        unknown = sorted(set(call.arguments) - set(properties))
        if unknown:
            problems.append(f"unknown argument(s) {', '.join(unknown)}")
    for error in _schema_errors(spec.parameters, call.arguments):
        if error.validator == "additionalProperties" and problems:
            continue  # the unknown arguments, said once
        where = ".".join(str(p) for p in error.path)
        problems.append(f"{where}: {error.message}" if where else error.message)
    if not problems:
        return None
    allowed = ", ".join(properties or {}) or "none"
    return CallProblem(
        "invalid_arguments",
        f"arguments for {call.name} are invalid: {'; '.join(problems[:3])}. Its parameters are: {allowed}",
    )


def _schema_errors(schema: dict[str, Any], arguments: dict[str, Any]) -> list[Any]:
    """`arguments`' schema violations, by path; none when the schema itself cannot be read."""
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = jsonschema.validators.validator_for(schema)(schema)
        while len(_validators) > _VALIDATORS_KEPT:
            _validators.popitem(last=False)
    _validators.move_to_end(key)
    try:
        return sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
    except jsonschema.SchemaError:  # the server will judge the call
        return []
