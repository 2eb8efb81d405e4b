"""Render a conversation into the exact prompt text a model was trained on.

Uses the model's own chat template (GGUF `tokenizer.chat_template`) in a sandboxed jinja2
environment, with messages and tools passed the way Hugging Face templates expect them (`wire`:
`tools=[{"type": "function", "function": {...}}]`) and tool results in the template's tool role.
Templates that know nothing about tools (Gemma 3, models without a template) get the tool list and
the `<tool_call>` convention in the system message. Tool results are compacted on the way in.

What each family's real template needs (tests/models/data holds them): Qwen3's thinking is turned
off (`enable_thinking=False`, an empty think block); Llama 3.1's takes one call per assistant turn
(results come back in its `ipython` role), so a turn with several calls is shown as one call and
its result after another; Mistral's wants 9-character alphanumeric call ids and, like Mistral's own
tokenizer, the system prompt at the head of the last user message (its template would drop it once
a tool result follows), and a tool result that is not JSON goes in as a JSON string.

Only the template may write control tokens. `render_parts` marks every control token's text that
comes from a message, a tool result or a tool definition (a question containing `<|im_start|>`,
say), so the tokenizer reads it as plain text and injected text cannot fake a turn.

This module does not tokenize, generate, or parse the model's output (see `toolcalls`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Literal

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agent.exceptions import ModelLoadError
from agent.messages import Message, ToolSpec
from agent.models.wire import compact_tool_result, message_dict, tool_dict

__all__ = ["HERMES", "CallSyntax", "ChatTemplate", "PromptPart", "call_syntax"]

PromptPart = tuple[str, bool]
"""A piece of a rendered prompt, and whether its control-token text is real (the template's own)."""

_MARK = re.compile("\ue000(\\d+)\ue001")  # stands in for control-token text from untrusted input

Family = Literal["hermes", "llama3", "mistral"]


@dataclass(frozen=True)
class CallSyntax:
    """How this model writes one tool call: `prefix` + `{"name": …, args_key: {…}}` + `suffix`."""

    family: Family
    prefix: str
    suffix: str
    args_key: str

    @property
    def hint(self) -> str:
        """The syntax as shown to the model when its call could not be read."""
        return f'{self.prefix}{{"name": "TOOL_NAME", "{self.args_key}": {{...}}}}{self.suffix}'


HERMES = CallSyntax("hermes", "<tool_call>\n", "\n</tool_call>", "arguments")
LLAMA3 = CallSyntax("llama3", "", "", "parameters")
MISTRAL = CallSyntax("mistral", "[TOOL_CALLS][", "]", "arguments")


def call_syntax(source: str) -> CallSyntax:
    """How a model whose chat template is `source` writes a call (Hermes `<tool_call>` unless the
    template shows Mistral's or Llama 3's markers)."""
    if "[TOOL_CALLS]" in source:
        return MISTRAL
    if "<|python_tag|>" in source or ("<|start_header_id|>" in source and "<tool_call>" not in source):
        return LLAMA3
    return HERMES


def _read(name: str) -> str:
    return resources.files("agent.models").joinpath("templates", name).read_text(encoding="utf-8")


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _raise(message: str) -> None:
    raise TemplateError(message)


class ChatTemplate:
    """A model's chat template, ready to render conversations with tools."""

    def __init__(
        self,
        source: str | None,
        *,
        architecture: str = "",
        bos_token: str = "",
        eos_token: str = "",
        control_tokens: Sequence[str] = (),
    ) -> None:
        self.native = source is not None
        # longest first, so "<|im_start|>" is not found inside a longer token's text
        self.control_tokens = tuple(sorted({t for t in control_tokens if t}, key=len, reverse=True))
        self._control = (
            re.compile("|".join(map(re.escape, self.control_tokens))) if self.control_tokens else None
        )
        if source is None:
            source = _read("gemma.jinja" if architecture.startswith("gemma") else "chatml.jinja")
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.supports_tools = "tools" in source
        self.syntax = call_syntax(source)
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise ModelLoadError(f"the model's chat template does not compile: {exc}") from exc

    def render(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> str:
        """The prompt for `messages` and `tools`, ending where the assistant's turn begins."""
        return "".join(text for text, _ in self.render_parts(messages, tools))

    def render_parts(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[PromptPart]:
        """The prompt as pieces: `(text, True)` from the template, `(text, False)` for control-token
        text that came from a message or a tool and must be tokenized as plain text."""
        tool_dicts = [tool_dict(t) for t in tools]
        if self.supports_tools:
            rendered = self._native_messages(messages)
        else:
            rendered = self._inline_tools(messages, tool_dicts)
        try:
            text = self._template.render(
                messages=self._marked(rendered),
                tools=self._marked(tool_dicts) or None,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                enable_thinking=False,  # Qwen3: answer or call at once; others ignore it
            )
        except TemplateError as exc:
            raise ModelLoadError(f"the model's chat template failed on this conversation: {exc}") from exc
        return self._split(text)

    def _marked(self, value: Any) -> Any:
        """`value` with control-token text in every string replaced by a mark (see `_split`)."""
        if self._control is None:
            return value
        if isinstance(value, str):
            index = {t: i for i, t in enumerate(self.control_tokens)}
            return self._control.sub(lambda m: f"\ue000{index[m.group(0)]}\ue001", value)
        if isinstance(value, dict):
            return {k: self._marked(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._marked(v) for v in value]
        return value

    def _split(self, text: str) -> list[PromptPart]:
        parts: list[PromptPart] = []
        pieces = _MARK.split(text)
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    parts.append((piece, True))
            else:
                n = int(piece)
                literal = self.control_tokens[n] if n < len(self.control_tokens) else f"\ue000{piece}\ue001"
                parts.append((literal, False))
        return parts

    def _native_messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """Messages as the template's own tool support expects them, adapted to its family."""
        rendered = [message_dict(m, for_template=True) for m in messages]
        if self.syntax.family == "llama3":
            rendered = _one_call_per_turn(rendered)
        if self.syntax.family == "mistral":
            rendered = [_mistral_message(m) for m in rendered]
            if "[SYSTEM_PROMPT]" not in self.source:
                rendered = _system_before_last_question(rendered)
        return rendered

    def _inline_tools(self, messages: Sequence[Message], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Messages for a template without tool support: calls and results written as text."""
        out: list[dict[str, Any]] = []
        if tools:
            listing = "\n".join(_tojson(t) for t in tools)
            instructions = _read("tool_instructions.md").format(tools=listing).strip()
            if messages and messages[0].role == "system":
                out.append({"role": "system", "content": f"{messages[0].content}\n\n{instructions}"})
                messages = messages[1:]
            else:
                out.append({"role": "system", "content": instructions})
        for m in messages:
            if m.role == "tool":
                text = f"<tool_response>\n{compact_tool_result(m.content)}\n</tool_response>"
                if out and out[-1]["role"] == "user" and out[-1]["content"].endswith("</tool_response>"):
                    out[-1]["content"] += "\n" + text
                else:
                    out.append({"role": "user", "content": text})
            elif m.tool_calls:
                calls = "\n".join(
                    f"<tool_call>\n{_tojson({'name': c.name, 'arguments': c.arguments})}\n</tool_call>"
                    for c in m.tool_calls
                )
                out.append({"role": "assistant", "content": f"{m.content}\n{calls}".strip()})
            else:
                out.append({"role": m.role, "content": m.content})
        return out


def _one_call_per_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each assistant turn with several calls as one turn per call, each followed by its result."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(messages):
        message, i = messages[i], i + 1
        calls = message.get("tool_calls") or []
        if len(calls) < 2:
            out.append(message)
            continue
        results: dict[str, dict[str, Any]] = {}
        while i < len(messages) and messages[i]["role"] == "tool":
            results[messages[i]["tool_call_id"]] = messages[i]
            i += 1
        for n, call in enumerate(calls):
            out.append({**message, "content": message["content"] if n == 0 else "", "tool_calls": [call]})
            if call["id"] in results:
                out.append(results.pop(call["id"]))
        out.extend(results.values())
    return out


def _mistral_id(call_id: str | None) -> str:
    """A 9-character alphanumeric id (what Mistral's templates demand), the same for call and result."""
    return hashlib.sha256((call_id or "").encode()).hexdigest()[:9]


def _mistral_message(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("tool_calls"):
        calls = [{**c, "id": _mistral_id(c["id"])} for c in message["tool_calls"]]
        return {**message, "tool_calls": calls}
    if message["role"] == "tool":
        content = message["content"]
        try:
            json.loads(content)
        except ValueError:
            content = json.dumps(content, ensure_ascii=False)
        return {**message, "content": content, "tool_call_id": _mistral_id(message["tool_call_id"])}
    return message


def _system_before_last_question(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The system prompt moved to the head of the last user message, as mistral-common does."""
    if not messages or messages[0]["role"] != "system":
        return messages
    system, rest = messages[0]["content"], list(messages[1:])
    last = max((i for i, m in enumerate(rest) if m["role"] == "user"), default=None)
    if last is None:
        return messages
    rest[last] = {**rest[last], "content": f"{system}\n\n{rest[last]['content']}"}
    return rest
