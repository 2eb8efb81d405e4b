"""The structured record of a run: one `Step` per model turn, with its tool calls and timings.

Only data and rendering. The loop fills it in; the CLI prints it; the server returns it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.messages import Message, Usage

__all__ = ["RunResult", "Step", "ToolCallRecord", "render_trace"]


class ToolCallRecord(BaseModel):
    """One tool call: what was asked, what came back, how long it took."""

    id: str
    name: str
    arguments: dict[str, Any]
    result: str
    is_error: bool = False
    truncated: bool = False
    duration_s: float = 0.0


class Step(BaseModel):
    """One model turn and the tool calls it made."""

    index: int
    model: str
    model_s: float
    usage: Usage
    text: str = ""
    parse_error: str | None = None
    route: dict[str, Any] | None = None
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)

    @property
    def tool_s(self) -> float:
        """Seconds spent in this step's tool calls (they run concurrently, so the longest)."""
        return max((c.duration_s for c in self.tool_calls), default=0.0)


class RunResult(BaseModel):
    """What a run returns: the answer, the steps that led to it, and the conversation."""

    answer: str
    steps: list[Step]
    usage: Usage
    duration_s: float
    messages: list[Message] = Field(default_factory=list, exclude=True)

    @property
    def tool_s(self) -> float:
        """Seconds spent waiting for tools, over all steps."""
        return sum(step.tool_s for step in self.steps)


def _short(value: str, limit: int = 160) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_trace(result: RunResult) -> str:
    """A human-readable trace: one block per step, timings first."""
    lines: list[str] = []
    for step in result.steps:
        u = step.usage
        lines.append(
            f"step {step.index}  {step.model}  {step.model_s:.2f}s  "
            f"in {u.input_tokens} (cached {u.cached_tokens}) / out {u.output_tokens} tok  "
            f"prefill {u.prefill_s:.2f}s decode {u.decode_s:.2f}s"
        )
        if step.route:
            reason = step.route.get("reason", "")
            tools = step.route.get("tools")
            lines.append(
                f"  route: {step.route.get('model', '?')} — {reason}" + (f" — tools {tools}" if tools else "")
            )
        if step.parse_error:
            lines.append(f"  unreadable output: {_short(step.parse_error)}")
        for call in step.tool_calls:
            flag = " ERROR" if call.is_error else (" (cut)" if call.truncated else "")
            args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
            lines.append(f"  → {call.name}({args})  {call.duration_s:.2f}s{flag}")
            lines.append(f"    {_short(call.result)}")
    u = result.usage
    lines.append(
        f"total {result.duration_s:.2f}s  model {sum(s.model_s for s in result.steps):.2f}s  "
        f"tools {result.tool_s:.2f}s  tokens in {u.input_tokens} / out {u.output_tokens}"
    )
    return "\n".join(lines)
