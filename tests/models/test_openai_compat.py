"""The OpenAI-compatible backend: wire parsing over MockTransport, and a real llama_cpp.server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.exceptions import ContextOverflowError, ModelError
from agent.messages import Message, ToolCall
from agent.models.openai_compat import OpenAICompatModel
from agent.validation import check_call
from tests.models.conftest import KANBOARD_TOOLS

QUESTION = [
    Message.system("You answer questions about Kanboard."),
    Message.user("What is overdue in Homelab?"),
]


def fake_server(
    handler: Callable[[dict[str, Any]], httpx.Response], seen: list[dict[str, Any]]
) -> OpenAICompatModel:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        body = json.loads(request.content)
        seen.append(body)
        return handler(body)

    return OpenAICompatModel(
        base_url="http://server/v1", model="qwen", name="remote", transport=httpx.MockTransport(handle)
    )


def completion(message: dict[str, Any], usage: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"message": message}], "usage": usage or {}})


async def test_native_tool_calls_are_returned_with_their_ids_and_decoded_arguments() -> None:
    seen: list[dict[str, Any]] = []
    call = {
        "id": "c9",
        "type": "function",
        "function": {"name": "kanboard__overdue_tasks", "arguments": '{"project": "Homelab"}'},
    }
    usage = {"prompt_tokens": 120, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 100}}
    model = fake_server(lambda body: completion({"content": None, "tool_calls": [call]}, usage), seen)
    response = await model.respond(QUESTION, KANBOARD_TOOLS)
    assert response.tool_calls == [
        ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="c9")
    ]
    assert (response.usage.input_tokens, response.usage.cached_tokens, response.usage.output_tokens) == (
        120,
        100,
        9,
    )
    assert seen[0]["tools"][0]["function"]["name"] == "kanboard__overdue_tasks"
    assert seen[0]["stream"] is False
    await model.aclose()


async def test_a_call_left_in_the_content_is_found_by_the_text_parser() -> None:
    content = (
        '<tool_call>\n{"name": "kanboard__search_tasks", "arguments": {"query": "backup"}}\n</tool_call>'
    )
    model = fake_server(lambda body: completion({"content": content}), [])
    response = await model.respond(QUESTION, KANBOARD_TOOLS)
    assert response.tool_calls[0].arguments == {"query": "backup"}
    await model.aclose()


async def test_native_arguments_that_are_not_json_become_a_parse_error() -> None:
    call = {"id": "c1", "function": {"name": "kanboard__search_tasks", "arguments": '{"query": '}}
    model = fake_server(lambda body: completion({"content": "", "tool_calls": [call]}), [])
    response = await model.respond(QUESTION, KANBOARD_TOOLS)
    assert response.tool_calls == [] and response.parse_error is not None
    assert "not valid JSON" in response.parse_error
    await model.aclose()


async def test_history_is_sent_in_openai_form_with_compacted_tool_results() -> None:
    seen: list[dict[str, Any]] = []
    model = fake_server(lambda body: completion({"content": "Renew TLS certificate is overdue."}), seen)
    call = ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="c1")
    history = [*QUESTION, Message.assistant("", [call]), Message.tool(call, '[{"title":   "Renew TLS"}]\n')]
    response = await model.respond(history, KANBOARD_TOOLS)
    assert response.text == "Renew TLS certificate is overdue."
    sent = seen[0]["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {
        "name": "kanboard__overdue_tasks",
        "arguments": '{"project": "Homelab"}',
    }
    assert sent[3] == {"role": "tool", "content": '[{"title":"Renew TLS"}]', "tool_call_id": "c1"}
    await model.aclose()


def sse(*chunks: dict[str, Any]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def test_streaming_forwards_answer_text_as_it_arrives() -> None:
    seen: list[dict[str, Any]] = []
    deltas = [
        {"choices": [{"delta": {"content": piece}}]} for piece in ["Two", " tasks", " are", " overdue."]
    ]
    model = fake_server(lambda body: sse(*deltas), seen)
    pieces: list[str] = []
    response = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=pieces.append)
    assert response.text == "Two tasks are overdue."
    assert "".join(pieces) == "Two tasks are overdue." and len(pieces) >= 2
    assert seen[0]["stream"] is True
    await model.aclose()


async def test_streamed_native_tool_call_fragments_are_joined_and_not_streamed_as_text() -> None:
    parts = ['{"pro', 'ject": "Homelab"}']
    chunks = [
        {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "c1",
                                "function": {"name": "kanboard__overdue_tasks", "arguments": ""},
                            }
                        ]
                    }
                }
            ]
        }
    ]
    chunks += [
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}}]} for p in parts
    ]
    model = fake_server(lambda body: sse(*chunks), [])
    pieces: list[str] = []
    response = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=pieces.append)
    assert response.tool_calls == [
        ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="c1")
    ]
    assert pieces == []
    await model.aclose()


async def test_a_streamed_text_call_is_not_streamed_as_an_answer() -> None:
    raw = '```json\n{"name": "kanboard__overdue_tasks", "arguments": {}}\n```'
    model = fake_server(lambda body: sse(*[{"choices": [{"delta": {"content": c}}]} for c in raw]), [])
    pieces: list[str] = []
    response = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=pieces.append)
    assert response.tool_calls and pieces == []
    await model.aclose()


async def test_a_context_length_error_from_the_server_is_a_context_overflow_error() -> None:
    error = {
        "error": {
            "message": "This model's maximum context length is 2048 tokens. Requested 3000 tokens exceed"
        }
    }
    model = fake_server(lambda body: httpx.Response(400, json=error), [])
    with pytest.raises(ContextOverflowError, match="raise the server's context size"):
        await model.respond(QUESTION, KANBOARD_TOOLS)
    await model.aclose()


async def test_a_server_error_is_a_model_error_with_status_and_body() -> None:
    model = fake_server(lambda body: httpx.Response(503, text="loading model"), [])
    with pytest.raises(ModelError, match="HTTP 503: loading model"):
        await model.respond(QUESTION, KANBOARD_TOOLS)
    await model.aclose()


async def test_an_unreachable_server_is_a_model_error_naming_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    model = OpenAICompatModel(
        base_url="http://127.0.0.1:9/v1", model="m", transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(ModelError, match=r"cannot reach the model server at http://127\.0\.0\.1:9/v1"):
        await model.respond(QUESTION, [])
    await model.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(qwen_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m llama_cpp.server` with the 0.5B on loopback; its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(qwen_path), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.real_model
async def test_a_real_llama_cpp_server_returns_a_schema_valid_tool_call(llama_server: str) -> None:
    model = OpenAICompatModel(base_url=llama_server, model="qwen", max_tokens=96)
    response = await model.respond(
        [
            Message.system("Use the tools to answer."),
            Message.user("Which tasks are overdue in the Homelab project?"),
        ],
        KANBOARD_TOOLS,
    )
    assert response.parse_error is None, response.raw
    assert response.tool_calls, response.raw
    assert all(check_call(c, KANBOARD_TOOLS) is None for c in response.tool_calls)
    assert response.usage.input_tokens > 50
    await model.aclose()


@pytest.mark.real_model
async def test_a_real_llama_cpp_server_streams_a_plain_answer(llama_server: str) -> None:
    model = OpenAICompatModel(base_url=llama_server, model="qwen", max_tokens=24)
    pieces: list[str] = []
    response = await model.respond([Message.user("Say hello in five words.")], [], on_text=pieces.append)
    assert response.text and response.tool_calls == []
    assert "".join(pieces).strip() == response.text
    await model.aclose()


async def test_a_streamed_answer_ends_at_a_stop_sequence_which_is_left_out() -> None:
    seen: list[dict[str, Any]] = []
    pieces = ["Two tasks", " are overdue", ":\n", "- #1 Replace", " the disk"]
    deltas = [{"choices": [{"delta": {"content": piece}}]} for piece in pieces]
    model = fake_server(lambda body: sse(*deltas), seen)
    streamed: list[str] = []
    response = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=streamed.append, stop=[":\n"])
    assert response.text == "Two tasks are overdue" and response.stop == ":\n"
    assert "".join(streamed) == "Two tasks are overdue"
    plain = await model.respond(QUESTION, KANBOARD_TOOLS, on_text=streamed.append, stop=["never"])
    assert plain.text == "Two tasks are overdue:\n- #1 Replace the disk" and plain.stop is None
    await model.aclose()
