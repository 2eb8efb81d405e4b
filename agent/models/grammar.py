"""GBNF grammars that let a model write only a valid tool call or a plain answer.

`tool_grammar(tools, syntax, converter)` builds `root ::= call | answer`. `call` is one call in
the model's own syntax (for Qwen `<tool_call>\\n{"name": "X", "arguments": {…}}\\n</tool_call>`),
a fenced ```json block or a bare object, with a known tool name and arguments generated from
that tool's JSON schema by llama.cpp's own converter (passed in by `agent.models.llama`, the one
package that imports llama_cpp), so optional fields may be left out and no invented keys fit. `answer` is free
text that cannot start like a call. One call per turn: small models are more reliable that way.

This module builds grammar text only, through the converter's public methods; it does not load
models or sample (see `agent.models.llama`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from agent.messages import ToolSpec
from agent.models.chat_template import CallSyntax

__all__ = ["ANSWER_RULE", "SchemaConverter", "literal", "tool_grammar"]


class SchemaConverter(Protocol):
    """llama.cpp's JSON-schema-to-GBNF converter (`llama_cpp.llama_grammar.SchemaConverter`)."""

    def resolve_refs(self, schema: dict[str, Any], url: str) -> dict[str, Any]: ...

    def visit(self, schema: dict[str, Any], name: str) -> str: ...

    def format_grammar(self) -> str: ...


ANSWER_RULE = "\n".join(
    [
        "answer ::= [^<{\\[` \\t\\n] answer-rest",
        'answer-rest ::= ( [^<`] | "<" [^t`<] | "`" [^`<] | "``" [^`<] )* ( "<" | "`" | "``" )?',
    ]
)
"""Free text that cannot start like a call, a JSON value or a code fence, and never contains
`<t…` or a triple backtick, so a call cannot hide in the middle of an answer."""

SPACE_RULE = '| " " | "\\n" [ \\t]{0,20}'
"""Whitespace inside a call: none, one space, or a newline and indentation (pretty-printed JSON).
It replaces the converter's own `space` rule (one optional space) in the grammar it writes."""

_SPACE = re.compile(r"^space ::= .*$", re.MULTILINE)

_DROP = ("$schema", "title", "examples", "default")


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    return json.dumps(text, ensure_ascii=False)


def _clean(schema: Any) -> Any:
    """A copy of `schema` without annotations the converter does not need."""
    if isinstance(schema, dict):
        return {k: _clean(v) for k, v in schema.items() if k not in _DROP or not isinstance(v, str | list)}
    if isinstance(schema, list):
        return [_clean(v) for v in schema]
    return schema


def tool_grammar(
    tools: Sequence[ToolSpec], syntax: CallSyntax, converter: SchemaConverter, *, require_call: bool = False
) -> str:
    """A grammar for one call to one of `tools`, or (unless `require_call`) a plain-text answer.

    The call may be written in the model's own syntax, as a fenced ```json block, or as a bare
    JSON object: small models often prefer the latter two, and all three parse the same.
    """
    if not tools:
        return f"root ::= answer\n{ANSWER_RULE}\n"
    alternatives = []
    for index, tool in enumerate(tools):
        schema = _clean(tool.parameters) or {"type": "object", "properties": {}}
        if (
            schema.get("type") == "object"
            and "properties" not in schema
            and "additionalProperties" not in schema
        ):
            schema = {**schema, "properties": {}}
        try:
            schema = converter.resolve_refs(schema, f"tool-{index}")
            args_rule = converter.visit(schema, f"t{index}-args")
        except Exception:  # a schema the converter cannot express: accept any JSON object
            args_rule = converter.visit({"type": "object"}, f"t{index}-any")
        name = literal(json.dumps(tool.name, ensure_ascii=False))
        key = literal(json.dumps(syntax.args_key))
        alternatives.append(f'{name} space "," space {key} space ":" space {args_rule}')
    calls = ["fenced", "obj"] if not syntax.prefix else ["native", "fenced", "obj"]
    # Mistral's tokenizer writes each call with its 9-character id after the arguments
    call_id = ' ( space "," space "\\"id\\"" space ":" space "\\"" [a-zA-Z0-9]{9} "\\"" )?'
    call_id = call_id if syntax.family == "mistral" else ""
    rules = [
        "root ::= call" if require_call else "root ::= call | answer",
        f"call ::= {' | '.join(calls)}",
        f"native ::= {literal(syntax.prefix)} obj {literal(syntax.suffix)}" if syntax.prefix else "",
        'fenced ::= "```json\\n" obj "\\n```"',
        f'obj ::= "{{" space "\\"name\\"" space ":" space ( {" | ".join(alternatives)} ){call_id} space "}}"',
        ANSWER_RULE,
        _with_space(converter.format_grammar()),
    ]
    return "\n".join(r for r in rules if r) + "\n"


def _with_space(rules: str) -> str:
    """The converter's rules with our `space` rule instead of its own."""
    ours = f"space ::= {SPACE_RULE}"
    replaced, n = _SPACE.subn(lambda _: ours, rules, count=1)
    return replaced if n else f"{rules}\n{ours}"
