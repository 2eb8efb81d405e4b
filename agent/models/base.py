"""The one interface every model implements: messages + tools in, one response out.

The llama.cpp backend, the OpenAI-compatible backend and the scripted test model implement
`Model`; which model answers a step is the loop's policy (`agent.policy`, `agent.router`). The
interface says nothing about prompts, templates or grammars: those are each backend's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from agent.messages import Message, ModelResponse, ToolSpec

__all__ = ["Checkable", "Model", "TextSink", "ToolChoice", "Turn"]

TextSink = Callable[[str], None]
"""Receives pieces of a final answer as they are generated. Always called on the event loop."""

ToolChoice = Literal["auto", "required", "none"]
"""`auto`: the model may call a tool or answer; `required`: it must call one of the tools; `none`:
it must answer (the tools stay in the prompt, so a cached prompt stays valid)."""


@dataclass(frozen=True)
class Turn:
    """What one turn may be: a call to one of `offered` (narrowed schemas), or an answer. Every
    backend reads `respond`'s `tools`, `tool_choice` and `calls` through `Turn.of`, and only so."""

    offered: Sequence[ToolSpec]
    require_call: bool
    answer_only: bool

    @classmethod
    def of(cls, tools: Sequence[ToolSpec], tool_choice: ToolChoice, calls: Sequence[ToolSpec] | None) -> Turn:
        """The turn `respond(tools, tool_choice=..., calls=...)` asks for."""
        offered = [] if tool_choice == "none" else list(tools if calls is None else calls)
        return cls(offered, require_call=tool_choice == "required" and bool(offered), answer_only=not offered)


@runtime_checkable
class Model(Protocol):
    """A chat model that can call tools."""

    @property
    def name(self) -> str:
        """A short name for traces and logs."""
        ...

    async def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        *,
        on_text: TextSink | None = None,
        tool_choice: ToolChoice = "auto",
        calls: Sequence[ToolSpec] | None = None,
        stop: Sequence[str] = (),
    ) -> ModelResponse:
        """Answer the conversation: tool calls or a final text.

        `on_text`, when given, receives the final answer's text as it is generated; it is never
        called with tool-call text. `tool_choice="required"` asks for a tool call and `"none"` for
        an answer (enforced by a grammar where the backend has one). `calls`, when given, are the
        calls allowed this turn: some of `tools`, their schemas possibly narrowed (`agent.grounding`);
        the prompt still shows `tools`, so a cached prompt stays valid. A final answer ends at the
        first of the `stop` sequences, which is left out of the text and named in
        `ModelResponse.stop` (`agent.models.stops`). Cancelling the awaiting task stops generation
        promptly.
        """
        ...

    async def aclose(self) -> None:
        """Release what the model holds (weights, HTTP clients)."""
        ...


@runtime_checkable
class Checkable(Protocol):
    """A model whose backend can be reached or not (a server elsewhere); `/healthz` asks it."""

    async def check(self) -> None:
        """Return when the backend answers now; raise `ModelError` saying why when it does not."""
        ...
