"""Constrained-mode grammars: they compile in llama.cpp and admit exactly valid calls or plain answers."""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np
import pytest

from agent.messages import ToolSpec
from agent.models.chat_template import HERMES, LLAMA3, MISTRAL, CallSyntax
from agent.models.grammar import tool_grammar
from agent.models.llama import new_schema_converter
from tests.models.conftest import KANBOARD_TOOLS

SCHEMAS: dict[str, dict[str, Any]] = {
    "enum_and_integer": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["open", "closed", "all"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        "required": ["status"],
    },
    "optional_only": {"type": "object", "properties": {"project": {"type": "string"}}},
    "array_of_strings": {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        "required": ["tags"],
    },
    "nested_object": {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "properties": {
                    "assignee": {"type": "string"},
                    "due_before": {"type": "string", "format": "date"},
                },
                "required": ["assignee"],
            },
            "include_closed": {"type": "boolean"},
        },
        "required": ["filter"],
    },
    "pydantic_style_refs_and_nullable": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Args",
        "type": "object",
        "$defs": {"Color": {"type": "string", "enum": ["red", "green"]}},
        "properties": {
            "color": {"$ref": "#/$defs/Color"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"},
            "score": {"type": "number"},
        },
        "required": ["color"],
    },
    "no_parameters": {"type": "object", "properties": {}},
    "object_without_properties": {"type": "object"},
    "empty_schema": {},
}


def tools_for(schema: dict[str, Any]) -> list[ToolSpec]:
    return [ToolSpec(name="tool_under_test", parameters=schema), *KANBOARD_TOOLS]


def compile_grammar(vocab: llama_cpp.Llama, text: str) -> Any:
    sampler = llama_cpp.llama_sampler_init_grammar(
        llama_cpp.llama_model_get_vocab(vocab.model), text.encode(), b"root"
    )
    assert sampler, f"llama.cpp rejected the grammar:\n{text}"
    return sampler


def accepts(vocab: llama_cpp.Llama, text: str, output: str) -> bool:
    """Whether the grammar lets a model write `output` and then stop."""
    sampler = compile_grammar(vocab, text)
    data = np.zeros(
        (1,), dtype=np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
    )
    array = llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False
    )
    try:
        for token in [*vocab.tokenize(output.encode(), add_bos=False, special=True), vocab.token_eos()]:
            data["id"][0], data["logit"][0] = token, 0.0
            array.size, array.selected = 1, -1
            llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
            if not np.isfinite(data["logit"][0]):
                return False
            if token != vocab.token_eos():
                llama_cpp.llama_sampler_accept(sampler, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(sampler)


@pytest.mark.parametrize("syntax", [HERMES, LLAMA3, MISTRAL], ids=lambda s: s.family)
@pytest.mark.parametrize("schema", list(SCHEMAS.values()), ids=list(SCHEMAS))
def test_grammar_for_realistic_schemas_compiles_in_llama_cpp(
    qwen_vocab: llama_cpp.Llama, schema: dict[str, Any], syntax: CallSyntax
) -> None:
    text = tool_grammar(tools_for(schema), syntax, new_schema_converter())
    llama_cpp.llama_sampler_free(compile_grammar(qwen_vocab, text))


def test_grammar_without_tools_is_an_answer_only_grammar(qwen_vocab: llama_cpp.Llama) -> None:
    text = tool_grammar([], HERMES, new_schema_converter())
    assert "call" not in text
    assert accepts(qwen_vocab, text, "Nothing is overdue.")


@pytest.fixture
def kanboard_grammar() -> str:
    return tool_grammar(KANBOARD_TOOLS, HERMES, new_schema_converter())


@pytest.mark.parametrize(
    "output",
    [
        '<tool_call>\n{"name": "kanboard__overdue_tasks", "arguments": {"project": "Homelab"}}\n</tool_call>',
        '<tool_call>\n{"name": "kanboard__overdue_tasks", "arguments": {}}\n</tool_call>',
        '```json\n{\n  "name": "kanboard__search_tasks",\n  "arguments": {\n    "query": "nas"\n  }\n}\n```',
        '{"name": "kanboard__search_tasks", "arguments": {"query": "nas"}}',
        "Two tasks are overdue: Renew TLS certificate (alice) and Replace UPS battery.",
        "Use `kanboard` for that; a < b is fine.",
    ],
)
def test_grammar_admits_valid_calls_in_every_form_and_plain_answers(
    qwen_vocab: llama_cpp.Llama, kanboard_grammar: str, output: str
) -> None:
    assert accepts(qwen_vocab, kanboard_grammar, output)


@pytest.mark.parametrize(
    "output",
    [
        '<tool_call>\n{"name": "kanboard__delete_everything", "arguments": {}}\n</tool_call>',
        '<tool_call>\n{"name": "kanboard__search_tasks", "arguments": {"project": "Homelab"}}\n</tool_call>',
        '<tool_call>\n{"name": "kanboard__overdue_tasks", "arguments": {"due": "2026-11-18"}}\n</tool_call>',
        '{"name": "kanboard__search_tasks", "arguments": {"query": 3}}',
        " leading space is not an answer start",
        "Sure!\n```json\n{}\n```",
        "Let me check.<tool_call>",
    ],
    ids=[
        "unknown tool",
        "missing required",
        "invented key",
        "wrong type",
        "space",
        "fence later",
        "tag later",
    ],
)
def test_grammar_rejects_unknown_tools_off_schema_arguments_and_hidden_calls(
    qwen_vocab: llama_cpp.Llama, kanboard_grammar: str, output: str
) -> None:
    assert not accepts(qwen_vocab, kanboard_grammar, output)


def test_enum_and_integer_schema_admits_only_listed_values(qwen_vocab: llama_cpp.Llama) -> None:
    text = tool_grammar(tools_for(SCHEMAS["enum_and_integer"]), HERMES, new_schema_converter())
    ok = '{"name": "tool_under_test", "arguments": {"status": "open", "limit": 5}}'
    bad = '{"name": "tool_under_test", "arguments": {"status": "pending"}}'
    assert accepts(qwen_vocab, text, ok)
    assert not accepts(qwen_vocab, text, bad)


_OVERDUE = '"name": "kanboard__overdue_tasks"'
CALL_AS_TEMPLATES_WRITE_IT = {
    "hermes": f'<tool_call>\n{{{_OVERDUE}, "arguments": {{"project": "Homelab"}}}}\n</tool_call>',
    "llama3": f'{{{_OVERDUE}, "parameters": {{"project": "Homelab"}}}}',
    "mistral": f'[TOOL_CALLS][{{{_OVERDUE}, "arguments": {{"project": "Homelab"}}, "id": "a1b2c3d4e"}}]',
}


@pytest.mark.parametrize("syntax", [HERMES, LLAMA3, MISTRAL], ids=lambda s: s.family)
def test_grammar_admits_each_family_s_call_as_its_chat_template_writes_it(
    qwen_vocab: llama_cpp.Llama, syntax: CallSyntax
) -> None:
    text = tool_grammar(KANBOARD_TOOLS, syntax, new_schema_converter())
    assert accepts(qwen_vocab, text, CALL_AS_TEMPLATES_WRITE_IT[syntax.family])


def test_mistral_call_ids_are_optional_but_must_have_nine_characters(qwen_vocab: llama_cpp.Llama) -> None:
    text = tool_grammar(KANBOARD_TOOLS, MISTRAL, new_schema_converter())
    assert accepts(qwen_vocab, text, '[TOOL_CALLS][{"name": "kanboard__overdue_tasks", "arguments": {}}]')
    assert not accepts(
        qwen_vocab, text, '[TOOL_CALLS][{"name": "kanboard__overdue_tasks", "arguments": {}, "id": "abc"}]'
    )
