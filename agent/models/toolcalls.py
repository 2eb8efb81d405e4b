"""Turn a model's raw output into tool calls or a final answer.

Recognises every tool-call form small open models write: `<tool_call>{…}</tool_call>` (one or
several), a fenced ```json block or a bare `{"name": …, "arguments"|"parameters": …}` object, a JSON
list of those, Llama 3 `<|python_tag|>{…}`, and Mistral `[TOOL_CALLS][…]` or `[TOOL_CALLS]name[ARGS]{…}`.
Output that is not a call is the final answer; output that looks like a call but cannot be read
gets a `parse_error` the model can act on. Never raises.

Parsing does not check arguments against the tool's schema (`agent.validation.check_call` does).
Nothing here knows about templates, grammars or llama.cpp.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from agent.messages import ToolCall

__all__ = [
    "CALL_MARKERS",
    "AnswerStream",
    "ParsedOutput",
    "parse_output",
]

CALL_MARKERS = ("<tool_call>", "<|python_tag|>", "[TOOL_CALLS]", "<function_call>")
"""Strings that announce a tool call wherever they appear."""

DEFAULT_HINT = '<tool_call>\n{"name": "TOOL_NAME", "arguments": {...}}\n</tool_call>'

_TAGGED = re.compile(r"<(tool_call|function_call)>(.*?)(?:</\1>|$)", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*([A-Za-z_]*)[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_MISTRAL_V11 = re.compile(r"\[TOOL_CALLS\]\s*([A-Za-z0-9_.\-]+)\s*\[ARGS\]", re.DOTALL)
_CALL_KEYS = {"name", "arguments", "parameters", "id", "type", "function"}


@dataclass(frozen=True)
class ParsedOutput:
    """What the model meant: tool calls (with any text before them), a final answer, or an error."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    error: str | None = None


class _NotACallError(ValueError):
    """The JSON parsed, but it is not a tool call."""


def _loads(text: str) -> Any:
    """Parse JSON the way a lenient reader would: trailing text, Python literals, missing braces."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start < 0:
            raise
        candidate = text[start:]
        try:
            return json.JSONDecoder().raw_decode(candidate)[0]
        except json.JSONDecodeError:
            pass
        for fixed in (_close_brackets(candidate), re.sub(r",\s*([}\]])", r"\1", candidate)):
            try:
                return json.loads(fixed)
            except json.JSONDecodeError:
                pass
        try:
            value = ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise first from None
        if isinstance(value, dict | list):
            return value
        raise first from None


def _loads_many(text: str) -> Any:
    """One JSON value, or a list when the text holds several in a row (one call per line)."""
    decoder, values, pos, text = json.JSONDecoder(), [], 0, text.strip()
    try:
        while pos < len(text):
            value, pos = decoder.raw_decode(text, pos)
            values.append(value)
            while pos < len(text) and text[pos] in " \t\r\n,;":
                pos += 1
    except json.JSONDecodeError:
        return _loads(text) if not values else values[0] if len(values) == 1 else values
    return values[0] if len(values) == 1 else values


def _close_brackets(text: str) -> str:
    """Append the closers a truncated JSON value is missing (outside strings)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    return text + ('"' if in_string else "") + "".join(reversed(stack))


def _as_call(value: Any, known: Collection[str] | None, *, strict: bool) -> ToolCall:
    """A ToolCall from one parsed object; `strict` demands it really has the shape of a call."""
    if not isinstance(value, dict):
        raise _NotACallError("not an object")
    if isinstance(value.get("function"), dict):  # OpenAI style {"type": "function", "function": {...}}
        value = value["function"]
    name = value.get("name")
    args: Any = value.get("arguments", value.get("parameters"))
    has_args = "arguments" in value or "parameters" in value
    if not isinstance(name, str) or not name:
        raise _NotACallError("no name")
    if strict and not (set(value) <= _CALL_KEYS and (has_args or (known is not None and name in known))):
        raise _NotACallError("has other keys")
    if isinstance(args, str):
        args = json.loads(args) if args.strip() else {}
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError(f'the "arguments" of {name} must be a JSON object, not {type(args).__name__}')
    return ToolCall(name=name, arguments=args)


def _as_calls(value: Any, known: Collection[str] | None, *, strict: bool) -> list[ToolCall]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _NotACallError("empty list")
    return [_as_call(item, known, strict=strict) for item in items]


def _error(detail: str, hint: str) -> str:
    return (
        f"Your tool call could not be read: {detail}. To call a tool, reply with only {hint} "
        "using a tool name from the list and a valid JSON object of arguments; otherwise answer in "
        "plain text."
    )


def _parse_marked(raw: str, known: Collection[str] | None, hint: str) -> ParsedOutput | None:
    """Calls announced by a marker: the model clearly meant to call a tool."""
    first = min((raw.find(m) for m in CALL_MARKERS if m in raw), default=-1)
    if first < 0:
        return None
    preface = raw[:first].strip()
    body = raw[first:]
    try:
        calls: list[ToolCall] = []
        if body.startswith(("<tool_call>", "<function_call>")):
            for match in _TAGGED.finditer(body):
                inner = match.group(2).strip()
                fenced = _FENCE.search(inner)
                calls += _as_calls(_loads(fenced.group(2) if fenced else inner), known, strict=False)
        elif body.startswith("<|python_tag|>"):
            for part in body[len("<|python_tag|>") :].split("<|python_tag|>"):
                chunks = [c for c in re.split(r";\s*(?=\{)", part.strip()) if c.strip()]
                for chunk in chunks:
                    calls += _as_calls(_loads(chunk), known, strict=False)
        else:  # [TOOL_CALLS]
            v11 = list(_MISTRAL_V11.finditer(body))
            if v11:
                for i, match in enumerate(v11):
                    end = v11[i + 1].start() if i + 1 < len(v11) else len(body)
                    args = _loads(body[match.end() : end])
                    calls.append(_as_call({"name": match.group(1), "arguments": args}, known, strict=False))
            else:
                calls = _as_calls(_loads(body[len("[TOOL_CALLS]") :]), known, strict=False)
        if not calls:
            raise _NotACallError("the tool call is empty")
    except (ValueError, RecursionError) as exc:
        return ParsedOutput(text=preface, error=_error(_describe(exc), hint))
    return ParsedOutput(text=preface, tool_calls=calls)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON ({exc.msg} at character {exc.pos})"
    if isinstance(exc, _NotACallError):
        return 'expected an object with "name" and "arguments"'
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply"
    return str(exc)


def _looks_like_call(snippet: str) -> bool:
    return bool(re.search(r'["\']name["\']\s*:', snippet)) and bool(
        re.search(r'["\'](arguments|parameters)["\']', snippet)
    )


def _parse_json_like(raw: str, known: Collection[str] | None, hint: str) -> ParsedOutput | None:
    """A fenced or bare JSON call; JSON that is not call-shaped stays part of the answer."""
    stripped = raw.strip()
    candidates: list[tuple[str, str]] = []  # (preface, json text)
    if stripped.startswith(("{", "[")):
        candidates.append(("", stripped))
    for match in _FENCE.finditer(raw):
        if match.group(1).lower() in ("", "json", "tool_call", "tool_code", "javascript", "python"):
            candidates.append((raw[: match.start()].strip(), match.group(2)))
    for preface, snippet in candidates:
        try:
            calls = _as_calls(_loads_many(snippet), known, strict=True)
        except _NotACallError:
            continue
        except (ValueError, RecursionError) as exc:
            if _looks_like_call(snippet):
                return ParsedOutput(text=preface, error=_error(_describe(exc), hint))
            continue
        return ParsedOutput(text=preface, tool_calls=calls)
    return None


def parse_output(
    raw: str, tool_names: Collection[str] | None = None, *, hint: str = DEFAULT_HINT
) -> ParsedOutput:
    """Read `raw` as tool calls, a final answer, or a call that could not be read. Never raises.

    Args:
        raw: the model's output.
        tool_names: the names offered; helps decide whether an unlabelled JSON object is a call.
        hint: the call syntax to show the model when its call could not be read.
    """
    try:
        for parse in (_parse_marked, _parse_json_like):
            parsed = parse(raw, tool_names, hint)
            if parsed is not None:
                return parsed
    except Exception as exc:  # never let a strange output crash the run
        return ParsedOutput(text="", error=_error(f"unexpected output ({type(exc).__name__})", hint))
    return ParsedOutput(text=raw.strip())


class AnswerStream:
    """Forwards a streamed final answer to a sink, holding back anything that may be a tool call.

    Output that starts like a call (a marker, `{`, `[`, a code fence) is buffered; `finish` then
    sends it only if it turned out to be an answer. Text before a later marker is sent as it comes.
    """

    _STARTS = (*CALL_MARKERS, "{", "[", "```")

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._raw = ""
        self._sent = 0
        self._held = False  # True once the output may be a call: stop sending

    def feed(self, piece: str) -> None:
        """Take the next generated piece."""
        self._raw += piece
        if self._held:
            return
        if self._sent == 0:
            stripped = self._raw.lstrip()
            if any(stripped.startswith(s) for s in self._STARTS):
                self._held = True
                return
            if not stripped or any(s.startswith(stripped) for s in self._STARTS):
                return  # too early to tell
        found = [i for m in (*CALL_MARKERS, "```") if (i := self._raw.find(m, self._sent)) >= 0]
        if found:
            self._send(min(found))
            self._held = True
            return
        safe = len(self._raw)
        for marker in (*CALL_MARKERS, "```"):  # keep back a tail that could begin a marker
            for size in range(min(len(marker) - 1, len(self._raw)), 0, -1):
                if self._raw.endswith(marker[:size]):
                    safe = min(safe, len(self._raw) - size)
                    break
        self._send(safe)

    def finish(self, parsed: ParsedOutput) -> None:
        """Send what is left of a final answer."""
        if not parsed.tool_calls and parsed.error is None:
            self._send(len(self._raw.rstrip()))

    def _send(self, end: int) -> None:
        if end > self._sent:
            piece = self._raw[self._sent : end]
            if self._sent == 0:
                piece = piece.lstrip()
            self._sent = end
            if piece:
                self._sink(piece)
