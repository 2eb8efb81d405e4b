"""Issue 25: every write path asks its user first, and a "no" writes nothing (issue 12's rows stay held)."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from tests.serve.conftest import client, running, served

ADD = ToolCall(name="board__add_task", arguments={"title": "Oil the fan"})
PATHS = ["chat", "ask-2026", "ask-legacy", "reexported-2026", "reexported-legacy"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_write_path_asks_the_user_and_a_no_writes_nothing(path: str) -> None:
    written: list[str] = []
    asked: list[str] = []

    async def no(context: object, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    model = ScriptedModel([ADD, "Not added."])
    async with served(model, written=written, reexport_tools=True) as service, running(service) as base:
        if path == "chat":
            async with client(base) as http:
                body = {"messages": [{"role": "user", "content": "Add a task to oil the fan"}]}
                answer = (await http.post("/v1/chat/completions", json=body)).json()
                asked.append(answer["choices"][0]["message"]["content"])
                body["messages"] += [
                    {"role": "assistant", "content": asked[0]},
                    {"role": "user", "content": "no"},
                ]
                await http.post("/v1/chat/completions", json=body)
        else:
            kind, mode = path.split("-")
            async with Client(
                f"{base}/mcp", mode="legacy" if mode == "legacy" else "auto", elicitation_callback=no
            ) as mcp:
                if kind == "ask":
                    await mcp.call_tool("ask", {"question": "Add a task to oil the fan"})
                else:
                    await mcp.call_tool(ADD.name, ADD.arguments)
        assert service.queue.active == 0
    assert len(asked) == 1 and "board__add_task" in asked[0]
    assert written == []
