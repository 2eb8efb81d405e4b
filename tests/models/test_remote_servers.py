"""The `openai` backend against the shapes llama-server, vLLM and Ollama answer (data/servers/):
the constraint each is sent, the calls read back, and a prompt that stays the same across turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.openai_compat import OpenAICompatModel
from tests.models.conftest import KANBOARD_TOOLS

SERVERS = Path(__file__).parent / "data" / "servers"

QUESTION = [
    Message.system("You answer questions about Kanboard."),
    Message.user("What is overdue in Homelab?"),
]
CALL = ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"})


def shape(server: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SERVERS / f"{server}.json").read_text())
    return data


def replay(server: str, seen: list[dict[str, Any]], **options: Any) -> OpenAICompatModel:
    """A model whose server answers as `server` does: its probes, then its call, then its answer."""
    data = shape(server)
    replies = [data["chat"], data["answer"]]

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json=data["models"])
        if path in data["probes"]:
            return httpx.Response(200, json=data["probes"][path])
        if path == "/v1/chat/completions" and request.method == "POST":
            seen.append(json.loads(request.content))
            return httpx.Response(200, json=replies.pop(0))
        return httpx.Response(404, text="File Not Found")

    return OpenAICompatModel(
        base_url="http://gpu:8000/v1",
        model="qwen",
        name="remote",
        transport=httpx.MockTransport(handle),
        **options,
    )


def after_call(question: list[Message]) -> list[Message]:
    """The conversation once the call ran: the call and its result appended."""
    return [
        *question,
        Message.assistant("", tool_calls=[CALL]),
        Message.tool(CALL, '{"tasks": [{"title": "Renew TLS"}, {"title": "Backups"}]}'),
    ]


@pytest.mark.parametrize("server", ["llama_server", "vllm", "ollama"])
async def test_a_call_is_a_call_whatever_the_server(server: str) -> None:
    seen: list[dict[str, Any]] = []
    model = replay(server, seen)
    response = await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    expected = shape(server)["expected"]
    assert response.parse_error is None
    want = expected.get("call", {"name": CALL.name, "arguments": CALL.arguments})
    assert [(c.name, c.arguments) for c in response.tool_calls] == [(want["name"], want["arguments"])]
    assert model.constraint == shape(server)["constraint"]
    usage = response.usage
    assert (usage.input_tokens, usage.cached_tokens, usage.output_tokens) == (
        expected["input_tokens"],
        expected["cached_tokens"],
        expected["output_tokens"],
    )
    answer = await model.respond(after_call(QUESTION), KANBOARD_TOOLS, tool_choice="none")
    assert answer.tool_calls == [] and answer.text == expected["answer"]
    await model.aclose()


async def test_llama_server_gets_the_in_process_gbnf_in_grammar_with_cache_prompt() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("llama_server", seen)
    await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    body = seen[0]
    assert body["cache_prompt"] is True
    assert body["tool_choice"] == "none"  # the server must not parse calls of its own
    assert body["grammar"].startswith("root ::= call\n")  # required: no answer alternative
    assert '"\\"kanboard__overdue_tasks\\""' in body["grammar"]
    assert "<tool_call>" in body["grammar"]  # the model's own syntax, from the template in /props
    assert "structured_outputs" not in body and "response_format" not in body
    await model.aclose()


async def test_vllm_gets_the_same_grammar_in_structured_outputs() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("vllm", seen)
    await model.respond(QUESTION, KANBOARD_TOOLS)
    body = seen[0]
    grammar = body["structured_outputs"]["grammar"]
    assert grammar.startswith("root ::= call | answer\n")
    assert '"\\"kanboard__search_tasks\\""' in grammar
    assert body["tool_choice"] == "none" and "grammar" not in body and "cache_prompt" not in body
    await model.aclose()


async def test_ollama_gets_a_json_schema_of_one_call_or_an_answer_object() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("ollama", seen)
    await model.respond(QUESTION, KANBOARD_TOOLS)
    schema = seen[0]["response_format"]["json_schema"]["schema"]
    names = [s["properties"].get("name", {}).get("const") for s in schema["anyOf"]]
    assert names == ["kanboard__overdue_tasks", "kanboard__search_tasks", None]
    assert schema["anyOf"][-1]["required"] == ["answer"]
    assert seen[0]["response_format"]["type"] == "json_schema"
    await model.aclose()


async def test_a_json_schema_turn_that_must_call_has_no_answer_and_one_that_must_answer_no_schema() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("ollama", seen)
    await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    await model.respond(after_call(QUESTION), KANBOARD_TOOLS, tool_choice="none")
    required = seen[0]["response_format"]["json_schema"]["schema"]
    assert [s["properties"]["name"]["const"] for s in required["anyOf"]] == [
        "kanboard__overdue_tasks",
        "kanboard__search_tasks",
    ]
    assert "response_format" not in seen[1]
    await model.aclose()


async def test_the_prompt_prefix_is_the_same_from_turn_to_turn_and_only_the_constraint_narrows() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("llama_server", seen)
    overdue = KANBOARD_TOOLS[0]
    narrowed = ToolSpec(
        name=overdue.name,
        description=overdue.description,
        parameters={"type": "object", "properties": {"project": {"enum": ["Homelab"]}}},
    )
    await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required", calls=[narrowed])
    await model.respond(after_call(QUESTION), KANBOARD_TOOLS, calls=[narrowed])
    first, second = seen
    assert second["tools"] == first["tools"]  # the whole list both times, not the grounded calls
    assert [t["function"]["name"] for t in first["tools"]] == [t.name for t in KANBOARD_TOOLS]
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert "kanboard__search_tasks" not in first["grammar"]  # the narrowing is in the grammar
    assert '"\\"Homelab\\""' in first["grammar"]
    assert first["grammar"] != second["grammar"]
    await model.aclose()


async def test_with_constraint_none_the_server_gets_tools_and_tool_choice_as_asked() -> None:
    seen: list[dict[str, Any]] = []
    model = replay("vllm", seen, constraint="none")
    await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required", calls=KANBOARD_TOOLS[:1])
    body = seen[0]
    assert body["tool_choice"] == "required" and len(body["tools"]) == len(KANBOARD_TOOLS)
    assert not {"grammar", "structured_outputs", "response_format"} & set(body)
    await model.aclose()


async def test_a_configured_constraint_is_used_without_asking_the_server() -> None:
    seen: list[dict[str, Any]] = []
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=shape("ollama")["answer"])

    model = OpenAICompatModel(
        base_url="http://gpu/v1", model="m", transport=httpx.MockTransport(handle), constraint="json_schema"
    )
    response = await model.respond(QUESTION, KANBOARD_TOOLS)
    assert asked == ["/v1/chat/completions"] and response.text == "Two tasks are overdue in Homelab."
    await model.aclose()


async def test_an_unknown_server_gets_no_constraint_and_its_native_calls_are_read() -> None:
    seen: list[dict[str, Any]] = []
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": CALL.name, "arguments": '{"project": "Homelab"}'},
    }

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": "m", "owned_by": "me"}]})
        if request.url.path == "/v1/chat/completions":
            seen.append(json.loads(request.content))
            return httpx.Response(
                200, json={"choices": [{"message": {"content": None, "tool_calls": [call]}}]}
            )
        return httpx.Response(404)

    model = OpenAICompatModel(base_url="http://gpu/v1", model="m", transport=httpx.MockTransport(handle))
    response = await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    assert model.constraint == "none" and seen[0]["tool_choice"] == "required"
    assert response.tool_calls[0].arguments == {"project": "Homelab"}
    await model.aclose()


async def test_a_streamed_json_schema_answer_reaches_on_text_unwrapped() -> None:
    answer = '{"answer": "Two tasks are overdue."}'

    def handle(request: httpx.Request) -> httpx.Response:
        events = [
            {"choices": [{"index": 0, "delta": {"content": answer[i : i + 7]}}]}
            for i in range(0, len(answer), 7)
        ]
        events.append(
            {"choices": [{"index": 0, "delta": {}}], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}
        )
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})

    model = OpenAICompatModel(
        base_url="http://gpu/v1", model="m", transport=httpx.MockTransport(handle), constraint="json_schema"
    )
    pieces: list[str] = []
    response = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=pieces.append)
    assert response.text == "Two tasks are overdue." and "".join(pieces) == "Two tasks are overdue."
    await model.aclose()


async def test_an_unstreamed_llama_server_answer_splits_prefill_and_decode_at_its_own_timings() -> None:
    model = replay("llama_server", [])
    response = await model.respond(QUESTION, KANBOARD_TOOLS, tool_choice="required")
    prompt_s = shape("llama_server")["chat"]["timings"]["prompt_ms"] / 1000
    total = response.usage.prefill_s + response.usage.decode_s
    assert response.usage.prefill_s == pytest.approx(min(prompt_s, total))
    await model.aclose()
