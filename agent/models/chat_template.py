"""Render a conversation into the exact prompt text a model was trained on.

Uses the model's own chat template (GGUF `tokenizer.chat_template`) in a sandboxed jinja2
environment, with tools passed the way Hugging Face templates expect them (`tools=[{"type":
"function", "function": {...}}]`) and tool results in the template's tool role. Templates that know
nothing about tools (Gemma 3, models without a template) get the tool list and the `<tool_call>`
convention in the system message. Tool results are compacted on the way in.

This module does not tokenize, generate, or parse the model's output (see `toolcalls`).
"""

from __future__ import annotations

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

__all__ = ["CallSyntax", "ChatTemplate", "compact_tool_result"]

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


def _read(name: str) -> str:
    return resources.files("agent.models").joinpath("templates", name).read_text(encoding="utf-8")


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _raise(message: str) -> None:
    raise TemplateError(message)


def compact_tool_result(text: str) -> str:
    """The same tool result in fewer tokens: compact JSON, no trailing spaces, no blank-line runs."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            pass
    lines = [re.sub(r"(?<=\S)[ \t]{2,}", " ", line.rstrip()) for line in stripped.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


class ChatTemplate:
    """A model's chat template, ready to render conversations with tools."""

    def __init__(
        self, source: str | None, *, architecture: str = "", bos_token: str = "", eos_token: str = ""
    ) -> None:
        self.native = source is not None
        if source is None:
            source = _read("gemma.jinja" if architecture.startswith("gemma") else "chatml.jinja")
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.supports_tools = "tools" in source
        if "[TOOL_CALLS]" in source:
            self.syntax = MISTRAL
        elif "<|python_tag|>" in source or ("<|start_header_id|>" in source and "<tool_call>" not in source):
            self.syntax = LLAMA3
        else:
            self.syntax = HERMES
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
        tool_dicts = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
            }
            for t in tools
        ]
        if self.supports_tools:
            rendered = [self._native_message(m) for m in messages]
        else:
            rendered = self._inline_tools(messages, tool_dicts)
        try:
            return self._template.render(
                messages=rendered,
                tools=tool_dicts or None,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError as exc:
            raise ModelLoadError(f"the model's chat template failed on this conversation: {exc}") from exc

    def _native_message(self, message: Message) -> dict[str, Any]:
        out: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in message.tool_calls
            ]
        if message.role == "tool":
            out["content"] = compact_tool_result(message.content)
            out["tool_call_id"] = message.tool_call_id
            out["name"] = message.name
        return out

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
