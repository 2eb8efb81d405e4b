"""Compiled call grammars for one model: built by `agent.models.grammar`, compiled by llama.cpp.

Grounded schemas (`agent.grounding`) make a new grammar per question, so the compiled ones are
kept in a small least-recently-used cache, and each is reset before a turn uses it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import llama_cpp
import structlog
from llama_cpp.llama_grammar import SchemaConverter as LlamaSchemaConverter

from agent.messages import ToolSpec
from agent.models.chat_template import CallSyntax
from agent.models.grammar import SchemaConverter, tool_grammar

__all__ = ["GrammarCache", "new_schema_converter"]

log = structlog.get_logger(__name__)

GRAMMARS_KEPT = 32  # compiled grammars kept per model


def new_schema_converter() -> SchemaConverter:
    """llama.cpp's JSON-schema-to-GBNF converter, fresh for one grammar."""
    converter: SchemaConverter = LlamaSchemaConverter(  # type: ignore[no-untyped-call]
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    return converter


class GrammarCache:
    """Compiled grammar samplers keyed by the tools (names and schemas) they admit calls to."""

    def __init__(self, vocab: Any, syntax: CallSyntax, model: str) -> None:
        self._vocab = vocab
        self._syntax = syntax
        self._model = model
        self._samplers: OrderedDict[tuple[str, ...], Any] = OrderedDict()  # a sampler, or None

    def get(self, tools: Sequence[ToolSpec], *, require_call: bool = False) -> Any | None:
        """The grammar for one call to `tools` (or an answer), reset; None if it will not compile."""
        key = (str(require_call), *(t.model_dump_json(include={"name", "parameters"}) for t in tools))
        if key not in self._samplers:
            text = tool_grammar(tools, self._syntax, new_schema_converter(), require_call=require_call)
            sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, text.encode(), b"root")
            if not sampler:
                log.warning("model.grammar_failed", model=self._model, tools=[t.name for t in tools])
            self._samplers[key] = sampler or None
            while len(self._samplers) > GRAMMARS_KEPT:
                _, old = self._samplers.popitem(last=False)
                if old is not None:
                    llama_cpp.llama_sampler_free(old)
        self._samplers.move_to_end(key)
        grammar = self._samplers[key]
        if grammar is not None:
            llama_cpp.llama_sampler_reset(grammar)
        return grammar

    def close(self) -> None:
        """Free every compiled grammar."""
        for grammar in self._samplers.values():
            if grammar is not None:
                llama_cpp.llama_sampler_free(grammar)
        self._samplers.clear()
