"""Messages and tools in OpenAI's chat format: written once, for the HTTP backend and the templates.

`openai_compat` sends them to a server as they are; `chat_template` hands them to a model's own
Hugging Face chat template, which expects the same shapes with a call's arguments as an object
rather than a JSON string. Tool results are compacted on the way (fewer tokens, same content).
Nothing here renders prompts or speaks HTTP.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.messages import Message, ToolSpec

__all__ = ["compact_tool_result", "message_dict", "tool_dict"]


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


def tool_dict(tool: ToolSpec) -> dict[str, Any]:
    """`{"type": "function", "function": {name, description, parameters}}`."""
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def message_dict(message: Message, *, for_template: bool = False) -> dict[str, Any]:
    """The message as the chat API takes it; `for_template`: as chat templates take it (a call's
    arguments as an object, and the tool's name on its result)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.arguments if for_template else json.dumps(c.arguments),
                },
            }
            for c in message.tool_calls
        ]
    if message.role == "tool":
        out["content"] = compact_tool_result(message.content)
        out["tool_call_id"] = message.tool_call_id
        if for_template:
            out["name"] = message.name
    return out
