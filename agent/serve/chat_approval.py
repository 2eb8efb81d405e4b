"""Approval in the chat itself, for OpenAI-compatible clients (Open WebUI, the `openai` client, …).

A chat client cannot show an elicitation form, but its user can answer. When a chat question's run
waits for approval, the answer (`question_text`) says what would be done — each tool and its
arguments in words — and how to allow it, and ends with the pending approval's reference. The next
user message decides (`reply`: yes or no, in a few usual words); the reference is found in the
assistant message just before it (`reference_in`), and the pending run is claimed server-side by it,
bound to the caller and to the conversation's earlier turns (`agent.serve.pending`), and resumed
with the decision. Any other next message is a new question; the pending run is left to expire.
`answer_in_chat` is that whole turn for `agent.serve.openai_api`; the runs are `Service`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent.messages import Message, ToolCall
from agent.models.base import TextSink
from agent.serve.approval import Decision, call_key
from agent.serve.pending import REF_PATTERN, Pending, fingerprint
from agent.serve.queue import Ticket
from agent.trace import RunResult

if TYPE_CHECKING:
    from agent.serve.service import Service

__all__ = ["answer_in_chat", "describe", "question_text", "reference_in", "reply"]

_YES = {"yes", "y", "yeah", "yep", "ok", "okay", "sure", "allow", "approve", "approved", "confirm", "go"}
_NO = {"no", "n", "nope", "deny", "denied", "cancel", "stop", "decline", "reject", "don't", "dont"}
_FILLER = {"please", "thanks", "thank", "you", "do", "it", "ahead", "not"}
_PUNCTUATION = re.compile(r"[^\w' ]+")


def reply(text: str) -> bool | None:
    """A yes (True) or no (False) to an approval question, or None when `text` is neither.

    Only a short message that is a decision counts ("yes", "No.", "yes please", "ok, do it",
    "go ahead", "no thanks"), so a follow-up question is never taken for one.
    """
    words = _PUNCTUATION.sub(" ", text.lower().replace("\u2019", "'")).split()
    if not words or len(words) > 5:
        return None
    if words in (["do", "it"], ["go", "ahead"]):
        return True
    if words == ["do", "not"]:
        return False
    for verdict, first in ((True, _YES), (False, _NO)):
        if words[0] in first and all(w in first or w in _FILLER for w in words[1:]):
            return verdict
    return None


def _value(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    return json.dumps(value, ensure_ascii=False)


def describe(call: ToolCall) -> str:
    """One call in words: `board__add_task` with title “Oil the fan”, project id 1 (empty ones left out)."""
    given = {k: v for k, v in call.arguments.items() if v not in ("", None, [], {})}  # "" = left out
    args = ", ".join(f"{k.replace('_', ' ')} {_value(v)}" for k, v in given.items())
    return f"`{call.name}`" + (f" with {args}" if args else " (no arguments)")


def question_text(pending: Pending, timeout_s: float) -> str:
    """The chat answer that asks for approval: what would be done, how to allow it, the reference."""
    calls = pending.calls
    lines = ["Before I go on I need your approval: this would change data."]
    if len(calls) == 1:
        lines.append(f"I would run {describe(calls[0])}.")
    else:
        lines.append("I would run:")
        lines += [f"- {describe(c)}" for c in calls]
    minutes = max(1, round(timeout_s / 60))
    lines.append(
        f"Reply **yes** to allow {'it' if len(calls) == 1 else 'them'}, or **no** to leave everything "
        f"as it is (this question expires in {minutes} minute{'s' if minutes != 1 else ''})."
    )
    lines.append(f"(approval {pending.ref})")
    return "\n\n".join(lines)


def reference_in(turns: Sequence[tuple[str, str]]) -> tuple[str, int] | None:
    """The reference of an approval question answered by the last turn, and that question's index.

    `turns` are the chat's (role, text) user and assistant turns; the last is the user's. Only the
    assistant turn right before it counts: an older question was not answered by this message.
    """
    if len(turns) < 2 or turns[-1][0] != "user" or turns[-2][0] != "assistant":
        return None
    found = REF_PATTERN.findall(turns[-2][1])
    return (found[-1], len(turns) - 2) if found else None


async def answer_in_chat(
    service: Service,
    *,
    owner: str,
    turns: Sequence[tuple[str, str]],
    history: Sequence[Message],
    model: str,
    on_text: TextSink | None = None,
    ticket: Ticket | None = None,
) -> RunResult:
    """One chat turn: a decision on the pending approval it answers, or a new question.

    `turns` are the request's (role, text) user and assistant turns, the question last. A run that
    waits for approval is parked and answered with `question_text` (streamed through `on_text`).

    Raises:
        NotPendingError: the turn answers an approval that is not pending for this caller and chat.
        HomelabAgentError, QueueFullError: as `Service.answer`.
    """
    question = turns[-1][1]
    found = reference_in(turns)
    verdict = reply(question) if found is not None else None
    if found is not None and verdict is not None:
        claimed = await service.pending.claim(found[0], owner, fingerprint(turns[: found[1]]))
        reason = "approved by the user in the chat" if verdict else "the user answered no in the chat"
        decisions = {call_key(c.name, c.arguments): Decision(verdict, reason) for c in claimed.calls}
        outcome = await service.resume(claimed, decisions, on_text=on_text, ticket=ticket)
        assert isinstance(outcome, RunResult)  # a chat approval is always a run's
        result, model = outcome, claimed.model or model
    else:
        result = await service.answer(
            question,
            history=history,
            on_text=on_text,
            model=model,
            ticket=ticket,
            approve=service.approver("chat"),
        )
    if result.paused is None:
        return result
    pending = await service.park(owner, result=result, conversation=fingerprint(turns), model=model)
    text = question_text(pending, service.settings.approval_timeout_s)
    if on_text is not None:
        on_text(text)
    return result.model_copy(update={"answer": text})
