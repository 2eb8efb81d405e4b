"""A model that replays a script: the test double every agent test drives.

`ScriptedModel` takes a list of turns (text, tool calls, or `ModelResponse`s) or a function of the
conversation, and records every request it receives so tests can assert on what the model saw.
It ships with the package (like pydantic-ai's FunctionModel) so users can test their own setups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio

from agent.exceptions import ModelError
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice
from agent.models.stops import StopText

__all__ = ["ScriptedModel", "ScriptedRequest", "Turn", "latest"]

Turn = str | ToolCall | list[ToolCall] | ModelResponse
"""A scripted turn: a final answer, one tool call, several in one turn, or a full response."""


@dataclass(frozen=True)
class ScriptedRequest:
    """What the scripted model was asked."""

    messages: list[Message]
    tools: list[ToolSpec]
    tool_choice: ToolChoice = "auto"
    calls: list[ToolSpec] | None = None  # the calls allowed, when narrower than `tools`
    stop: tuple[str, ...] = ()  # where an answer was asked to end


def latest(messages: Sequence[Message]) -> Message:
    """The message a turn answers: the last one, looking past the loop's reminder (the question
    said again after tool results), so a scripted function can ask "did a tool just answer?"."""
    return next((m for m in reversed(messages) if not m.is_reminder), messages[-1])


def _as_response(turn: Turn, name: str) -> ModelResponse:
    if isinstance(turn, ModelResponse):
        return turn if turn.model else turn.model_copy(update={"model": name})
    if isinstance(turn, str):
        return ModelResponse(text=turn, raw=turn, model=name, usage=Usage(output_tokens=len(turn.split())))
    calls = [turn] if isinstance(turn, ToolCall) else list(turn)
    return ModelResponse(tool_calls=calls, model=name, usage=Usage(output_tokens=8 * len(calls)))


@dataclass
class ScriptedModel:
    """Replays `script` one turn per request, or calls `function(messages, tools)` for each.

    When the script runs out it raises `ModelError`, so a test that loops too long fails loudly.
    `delay_s` simulates generation time (useful for queueing and cancellation tests).
    """

    script: list[Turn] = field(default_factory=list)
    function: Callable[[list[Message], list[ToolSpec]], Turn] | None = None
    model_name: str = "scripted"
    delay_s: float = 0.0
    stream_chunk: int = 8  # characters per streamed piece of a final answer
    requests: list[ScriptedRequest] = field(default_factory=list)
    closed: bool = False

    @property
    def name(self) -> str:
        """The model's name in traces."""
        return self.model_name

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
        """Return the next scripted turn, streaming a final answer through `on_text`; an answer
        ends at the first of `stop`, as a real model's would."""
        allowed = None if calls is None else list(calls)
        self.requests.append(ScriptedRequest(list(messages), list(tools), tool_choice, allowed, tuple(stop)))
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        if self.function is not None:
            turn = self.function(list(messages), list(tools))
        elif self.script:
            turn = self.script.pop(0)
        else:
            raise ModelError(f"scripted model {self.model_name!r} has no turns left")
        response = _as_response(turn, self.model_name)
        if response.text and not response.tool_calls:
            sink = StopText(on_text, stop)
            for i in range(0, len(response.text), self.stream_chunk):
                sink.feed(response.text[i : i + self.stream_chunk])
                if sink.hit is not None:
                    return response.model_copy(update={"text": sink.text.strip(), "stop": sink.hit})
            sink.flush()
        return response

    async def aclose(self) -> None:
        """Mark the model closed."""
        self.closed = True
