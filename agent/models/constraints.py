"""The constraint a model server is sent so a turn can only be one valid call or a plain answer.

The in-process backend samples under a GBNF grammar (`agent.models.grammar`); a server gets the
same constraint in the form it takes, chosen by `constraint` in the model's settings:

    grammar ............ llama-server: the same GBNF as in-process, in the request's `grammar` field
    structured_outputs . vLLM (0.12 and later): the same GBNF in `structured_outputs.grammar`
    json_schema ........ Ollama (0.5 and later), or any server honouring OpenAI's `response_format`:
                         a JSON schema for one call ({"name", "arguments"}), or an answer written
                         as {"answer": "..."} (JSON schemas cannot say "JSON or free text")
    none ............... nothing: the server's own tool calling (`tools`, `tool_choice`)

With a constraint the request still carries the whole tool list (the prompt, and so the server's
prompt cache, never changes within a run), `tool_choice` is "none" (the server must not parse calls
of its own) and the narrowing of a turn (`calls`, `tool_choice`) lives in the constraint only. The
server answers text, read by the same parser as in-process (`agent.models.toolcalls`).

`detect_kind` tells the servers apart from what they answer: `/v1/models` says `owned_by`
"llamacpp" (llama-server) or "vllm"; Ollama answers `/api/version`. Nothing here speaks HTTP.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agent.messages import ToolSpec
from agent.models.base import Turn
from agent.models.chat_template import HERMES, CallSyntax
from agent.models.grammar import tool_grammar

__all__ = [
    "CONSTRAINTS",
    "ConstraintKind",
    "answer_of",
    "constraint_fields",
    "kind_from_models",
    "turn_schema",
]

ConstraintKind = Literal["grammar", "structured_outputs", "json_schema", "none"]
CONSTRAINTS: tuple[ConstraintKind, ...] = ("grammar", "structured_outputs", "json_schema", "none")

ANSWER_KEY = "answer"  # json_schema mode: an answer is {"answer": "..."}


def _grammar(turn: Turn, syntax: CallSyntax) -> str:
    # llama.cpp's own JSON-schema converter, as in-process (only agent.models.llama imports llama_cpp)
    from agent.models.llama.grammars import new_schema_converter

    return tool_grammar(turn.offered, syntax, new_schema_converter(), require_call=turn.require_call)


def _arguments_schema(tool: ToolSpec) -> dict[str, Any]:
    schema = dict(tool.parameters) or {"type": "object", "properties": {}}
    if schema.get("type") == "object" and "properties" not in schema:
        schema["properties"] = {}
    return schema


def turn_schema(turn: Turn) -> dict[str, Any] | None:
    """A JSON schema for the turn: one call to an offered tool, or (unless a call is required) an
    answer object; None for an answer-only turn (free text, unconstrained)."""
    if turn.answer_only:
        return None
    calls: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": _arguments_schema(tool)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in turn.offered
    ]
    if not turn.require_call:
        answer = {"type": "string", "minLength": 1}
        calls.append(
            {
                "type": "object",
                "properties": {ANSWER_KEY: answer},
                "required": [ANSWER_KEY],
                "additionalProperties": False,
            }
        )
    return calls[0] if len(calls) == 1 else {"anyOf": calls}


def constraint_fields(kind: ConstraintKind, turn: Turn, syntax: CallSyntax = HERMES) -> dict[str, Any]:
    """The request fields that hold the turn to `kind`'s constraint (besides messages and tools)."""
    if kind == "none":
        return {}
    fields: dict[str, Any] = {"tool_choice": "none"}
    if kind == "grammar":
        fields["grammar"] = _grammar(turn, syntax)
    elif kind == "structured_outputs":
        fields["structured_outputs"] = {"grammar": _grammar(turn, syntax)}
    else:
        schema = turn_schema(turn)
        if schema is not None:
            fields["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "turn", "schema": schema},
            }
    return fields


def answer_of(raw: str) -> str | None:
    """The answer in a json_schema-mode output `{"answer": "..."}`, or None when it is not one."""
    text = raw.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and set(value) == {ANSWER_KEY} and isinstance(value[ANSWER_KEY], str):
        return str(value[ANSWER_KEY]).strip()
    return None


def kind_from_models(body: Any) -> ConstraintKind | None:
    """The constraint a server takes, from its `GET /v1/models` answer; None when it does not say."""
    data = body.get("data") if isinstance(body, dict) else None
    owners = {str(m.get("owned_by", "")).lower() for m in data or [] if isinstance(m, dict)}
    if "llamacpp" in owners:
        return "grammar"
    if "vllm" in owners:
        return "structured_outputs"
    if owners & {"ollama", "library"}:  # Ollama: "library" for models pulled from its library
        return "json_schema"
    return None
