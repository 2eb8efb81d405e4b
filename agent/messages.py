"""The data every part of the agent speaks: messages, tool calls, tool specs, model responses.

Plain pydantic models, so traces and HTTP responses serialise without glue. Nothing here knows
about a particular model, MCP, or Kanboard.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Message", "ModelResponse", "ToolCall", "ToolResult", "ToolSpec", "Usage"]

Role = Literal["system", "user", "assistant", "tool"]


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


class ToolCall(BaseModel):
    """A request by the model to run one tool."""

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str = Field(default_factory=_call_id)


class Message(BaseModel):
    """One chat message. `tool` messages answer the call named by `tool_call_id`."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name, on role="tool"
    is_correction: bool = False  # a user turn the loop wrote: the model's last output was unusable
    is_reminder: bool = False  # a user turn the loop adds to one request only (the question again)

    @classmethod
    def system(cls, content: str) -> Message:
        """A system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user message."""
        return cls(role="user", content=content)

    @classmethod
    def correction(cls, content: str) -> Message:
        """A user turn written by the loop (not the user) about the model's unusable output."""
        return cls(role="user", content=content, is_correction=True)

    @classmethod
    def reminder(cls, content: str) -> Message:
        """A user turn the loop adds to one request after tool results; never kept in the conversation."""
        return cls(role="user", content=content, is_reminder=True)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: tuple[ToolCall, ...] | list[ToolCall] = ()) -> Message:
        """An assistant message, with the tool calls it made."""
        return cls(role="assistant", content=content, tool_calls=tuple(tool_calls))

    @classmethod
    def tool(cls, call: ToolCall, content: str) -> Message:
        """The result of `call`, as the model will read it."""
        return cls(role="tool", content=content, tool_call_id=call.id, name=call.name)


class ToolSpec(BaseModel):
    """A tool as the model sees it: name, one-paragraph description, JSON-schema parameters."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    read_only: bool | None = None  # MCP readOnlyHint
    destructive: bool | None = None  # MCP destructiveHint
    # the closed lists of names string parameters take (a server's world: its projects, people),
    # kept out of `parameters` and so out of the prompt; `agent.grounding` admits in a call the
    # ones the conversation has named
    names: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class ToolResult(BaseModel):
    """What a tool returned: text for the model, optional structured content, and whether it failed."""

    model_config = ConfigDict(frozen=True)

    text: str
    is_error: bool = False
    structured: dict[str, Any] | None = None


class Usage(BaseModel):
    """Tokens and seconds spent by one or more model calls."""

    input_tokens: int = 0  # prompt tokens, including those served from the KV cache
    cached_tokens: int = 0  # prompt tokens reused from the KV cache (not re-processed)
    output_tokens: int = 0
    prefill_s: float = 0.0  # time to process the new prompt tokens
    decode_s: float = 0.0  # time to generate the output tokens
    drafted_tokens: int = 0  # speculative decoding: guessed tokens checked by the model
    accepted_tokens: int = 0  # ... and those it agreed with (output it did not generate one by one)
    restored_tokens: int = 0  # of the cached tokens, those loaded from a saved prefix state on disk

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            prefill_s=self.prefill_s + other.prefill_s,
            decode_s=self.decode_s + other.decode_s,
            drafted_tokens=self.drafted_tokens + other.drafted_tokens,
            accepted_tokens=self.accepted_tokens + other.accepted_tokens,
            restored_tokens=self.restored_tokens + other.restored_tokens,
        )


class ModelResponse(BaseModel):
    """One model turn: either tool calls, or a final text answer.

    `parse_error` is set when the model wrote something that looks like a tool call but could not
    be parsed; the loop shows the error to the model and lets it try again.
    """

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    raw: str = ""  # the model's raw output, before parsing
    parse_error: str | None = None
    stop: str | None = None  # the stop sequence the answer ended at (not in `text`); None: it ended itself
