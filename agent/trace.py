"""The structured record of a run: one `Step` per model turn, with its tool calls and timings.

Only data and rendering. The loop fills it in; the CLI prints it; the server returns it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from agent.messages import Message, ToolCall, Usage

__all__ = ["PausedRun", "Route", "RunResult", "Step", "ToolCallRecord", "render_trace"]


class ToolCallRecord(BaseModel):
    """One tool call: what was asked, what came back, how long it took."""

    id: str
    name: str
    arguments: dict[str, Any]
    result: str
    is_error: bool = False
    truncated: bool = False
    duration_s: float = 0.0


class Route(BaseModel):
    """What the router chose for one step, and why (`agent.router`)."""

    decided: Literal["small", "large"]  # the run's choice, made when it started
    choice: Literal["small", "large"]  # who answered this step: "large" once the small model was replaced
    reason: str  # the decision's cues, or why the small model was replaced
    escalation: str | None = None  # why the small model was replaced, as a metrics label
    complexity: float = 0.0  # the question's complexity cues, 0..1
    decide_ms: float = 0.0  # time taken to decide (on the run's first step; 0 after)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def escalated(self) -> bool:
        """Whether the large model took the question over from the small one."""
        return self.escalation is not None


class Step(BaseModel):
    """One model turn and the tool calls it made."""

    index: int
    model: str
    model_s: float
    usage: Usage
    # seconds from the step's start until its first answer text was ready to stream (None: no answer)
    first_token_s: float | None = None
    text: str = ""
    parse_error: str | None = None
    route: Route | None = None
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    # calls that repeated one already answered in this run: not run again; the next turn asked for
    # an answer (small models call again instead of reading the result)
    repeated: list[ToolCall] = Field(default_factory=list)
    # the tools whose lists the answer quotes as they gave them, after the model's lead (`agent.quoting`)
    quoted: list[str] = Field(default_factory=list)
    direct: bool = False  # ... and is that list alone: it answered the question as asked, no model was asked

    @property
    def tool_s(self) -> float:
        """Seconds spent in this step's tool calls (they run concurrently, so the longest)."""
        return max((c.duration_s for c in self.tool_calls), default=0.0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prefill_tok_s(self) -> float:
        """Prompt tokens evaluated per second (those not served from a cache)."""
        new = self.usage.input_tokens - self.usage.cached_tokens
        return round(new / self.usage.prefill_s, 1) if self.usage.prefill_s > 0 else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def decode_tok_s(self) -> float:
        """Tokens generated per second."""
        u = self.usage
        return round(u.output_tokens / u.decode_s, 1) if u.decode_s > 0 else 0.0


class PausedRun(BaseModel):
    """A run that ended waiting for decisions on some tool calls: everything needed to go on.

    Plain data (it is stored between the question and the decision, possibly in another process):
    the conversation up to the step whose calls wait, that step's calls, the ones that already ran,
    and the counters the loop keeps. `Agent.run(resume=paused)` runs the pending calls and goes on.
    """

    question: str
    messages: list[Message]  # the run's conversation before the paused step's assistant turn
    run_start: int  # index of the run's first message after the question
    first_choice: Literal["auto", "required", "none"] = "auto"
    step: int
    usage: Usage
    steps: list[Step]  # the last one is the paused step
    answered: list[str] = Field(default_factory=list)  # the calls run so far, as the loop keys them
    calls: list[ToolCall]  # the paused step's calls, in the model's order
    done: list[ToolCallRecord] = Field(default_factory=list)  # those of `calls` that ran
    step_text: str = ""  # the text the model wrote beside the paused step's calls
    elapsed_s: float = 0.0  # the run's seconds before it paused

    @property
    def pending(self) -> list[ToolCall]:
        """The calls that wait for a decision."""
        ran = {r.id for r in self.done}
        return [c for c in self.calls if c.id not in ran]


class RunResult(BaseModel):
    """What a run returns: the answer, the steps that led to it, and the conversation.

    A run that ended waiting for a decision has no answer and `paused` set: see `PausedRun`.
    """

    answer: str
    steps: list[Step]
    usage: Usage
    duration_s: float
    # seconds from the run's start until the answer's first text was ready to stream
    first_token_s: float | None = None
    messages: list[Message] = Field(default_factory=list, exclude=True)
    paused: PausedRun | None = Field(default=None, exclude=True)

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
            f"prefill {u.prefill_s:.2f}s ({step.prefill_tok_s:.0f} tok/s) "
            f"decode {u.decode_s:.2f}s ({step.decode_tok_s:.1f} tok/s)"
        )
        notes = []
        if u.restored_tokens:
            notes.append(f"{u.restored_tokens} prompt tokens restored from a saved prefix state")
        if u.drafted_tokens:
            notes.append(f"speculation: {u.accepted_tokens} of {u.drafted_tokens} guessed tokens accepted")
        if step.first_token_s is not None:
            notes.append(f"first answer token after {step.first_token_s:.2f}s")
        if notes:
            lines.append(f"  {'; '.join(notes)}")
        if step.route:
            lines.append(f"  route: {step.model} — {step.route.reason}")
        if step.parse_error:
            lines.append(f"  unreadable output: {_short(step.parse_error)}")
        if step.direct:
            lines.append(
                f"  answer: the list {', '.join(step.quoted)} gave, as it gave it (the call holds every word "
                "of the question; no model turn)"
            )
        elif step.quoted:
            lines.append(f"  answer: the model's lead, then the lists of {', '.join(step.quoted)} as given")
        for repeated in step.repeated:
            args = ", ".join(f"{k}={v!r}" for k, v in repeated.arguments.items())
            lines.append(f"  repeated {repeated.name}({args}): answered before in this run; not run again")
        for call in step.tool_calls:
            flag = " ERROR" if call.is_error else (" (cut)" if call.truncated else "")
            args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
            lines.append(f"  → {call.name}({args})  {call.duration_s:.2f}s{flag}")
            lines.append(f"    {_short(call.result)}")
    u = result.usage
    first = "" if result.first_token_s is None else f"  first answer token {result.first_token_s:.2f}s"
    lines.append(
        f"total {result.duration_s:.2f}s{first}  model {sum(s.model_s for s in result.steps):.2f}s  "
        f"tools {result.tool_s:.2f}s  tokens in {u.input_tokens} / out {u.output_tokens}"
    )
    return "\n".join(lines)
