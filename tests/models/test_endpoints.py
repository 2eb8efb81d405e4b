"""Retries with backoff and several servers per model: loopback servers and MockTransport."""

from __future__ import annotations

import time
from collections import Counter
from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent.exceptions import ModelError
from agent.messages import Message
from agent.models.endpoints import RetryPolicy, retry_after
from agent.models.openai_compat import OpenAICompatModel
from tests.support.http_servers import free_port, serve_app

QUESTION = [Message.user("What is overdue in Homelab?")]
FAST = RetryPolicy(tries=4, total_s=10, base_s=0.01, max_wait_s=2)
ANSWER = {"choices": [{"message": {"content": "Nothing is overdue."}}], "usage": {"prompt_tokens": 7}}


def flaky_app(statuses: list[int], headers: dict[str, str], seen: list[float]) -> Starlette:
    """Answers `statuses` in turn (with `headers`), then 200 with an answer."""

    async def chat(request: Request) -> Response:
        seen.append(time.monotonic())
        if statuses:
            return Response("loading model", status_code=statuses.pop(0), headers=headers)
        return JSONResponse(ANSWER)

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def model_at(*urls: str, policy: RetryPolicy = FAST, **options: Any) -> OpenAICompatModel:
    return OpenAICompatModel(base_url=list(urls), model="m", constraint="none", retry=policy, **options)


async def test_a_server_that_answers_503_then_200_is_asked_again_and_the_answer_stands() -> None:
    seen: list[float] = []
    with serve_app(flaky_app([503, 503], {}, seen)) as base:
        model = model_at(f"{base}/v1")
        response = await model.respond(QUESTION, [])
        await model.aclose()
    assert response.text == "Nothing is overdue." and len(seen) == 3


async def test_retry_after_in_seconds_is_waited_for_before_the_next_try() -> None:
    seen: list[float] = []
    with serve_app(flaky_app([429], {"Retry-After": "1"}, seen)) as base:
        model = model_at(f"{base}/v1")
        response = await model.respond(QUESTION, [])
        await model.aclose()
    assert response.text == "Nothing is overdue."
    assert seen[1] - seen[0] >= 0.95


def test_retry_after_reads_seconds_and_http_dates_and_ignores_nonsense() -> None:
    now = time.time()
    assert retry_after("3") == 3.0
    assert retry_after(formatdate(now + 10, usegmt=True), now=now) == pytest.approx(10, abs=1)
    assert retry_after("soon") is None and retry_after(None) is None


async def test_the_last_failure_is_a_model_error_naming_the_url_without_credentials() -> None:
    port = free_port()
    model = model_at(f"http://admin:hunter22@127.0.0.1:{port}/v1", policy=RetryPolicy(tries=2, base_s=0.01))
    with pytest.raises(ModelError) as caught:
        await model.respond(QUESTION, [])
    await model.aclose()
    message = str(caught.value)
    assert f"cannot reach the model server at http://***@127.0.0.1:{port}/v1" in message
    assert "2 tries" in message and "hunter22" not in message


async def test_a_server_still_busy_after_the_last_try_says_what_it_answered() -> None:
    seen: list[float] = []
    with serve_app(flaky_app([503] * 5, {}, seen)) as base:
        model = model_at(f"{base}/v1", policy=RetryPolicy(tries=3, base_s=0.01))
        with pytest.raises(ModelError, match=r"answered HTTP 503: loading model \(3 tries in"):
            await model.respond(QUESTION, [])
        await model.aclose()
    assert len(seen) == 3


async def test_retrying_stops_when_the_total_time_would_run_out() -> None:
    seen: list[float] = []
    with serve_app(flaky_app([503] * 5, {"Retry-After": "30"}, seen)) as base:
        model = model_at(f"{base}/v1", policy=RetryPolicy(tries=5, total_s=2, max_wait_s=30))
        started = time.monotonic()
        with pytest.raises(ModelError, match="retry_tries / retry_total_s"):
            await model.respond(QUESTION, [])
        await model.aclose()
    assert len(seen) == 1 and time.monotonic() - started < 1.5


def counting(down: set[str], asked: Counter[str]) -> httpx.MockTransport:
    """Servers by host name: those in `down` refuse connections, the others answer."""

    def handle(request: httpx.Request) -> httpx.Response:
        asked[request.url.host] += 1
        if request.url.host in down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=ANSWER)

    return httpx.MockTransport(handle)


async def test_questions_spread_over_two_servers_in_turn() -> None:
    asked: Counter[str] = Counter()
    model = model_at("http://a/v1", "http://b/v1", transport=counting(set(), asked))
    for _ in range(4):
        await model.respond(QUESTION, [])
    await model.aclose()
    assert asked == {"a": 2, "b": 2}


async def test_a_server_that_is_down_is_skipped_and_tried_again_later() -> None:
    asked: Counter[str] = Counter()
    down = {"a"}
    model = model_at(
        "http://a/v1", "http://b/v1", transport=counting(down, asked), policy=RetryPolicy(base_s=0.3)
    )
    answers = [await model.respond(QUESTION, []) for _ in range(4)]
    assert all(a.text == "Nothing is overdue." for a in answers)
    assert asked == {"a": 1, "b": 4}  # a failed once, then was left alone while down
    await anyio.sleep(0.4)
    down.clear()  # a is back
    for _ in range(2):
        await model.respond(QUESTION, [])
    await model.aclose()
    assert asked["a"] >= 2  # tried again once its time out was over


async def test_a_timeout_is_not_retried() -> None:
    asked: Counter[str] = Counter()

    def handle(request: httpx.Request) -> httpx.Response:
        asked[request.url.host] += 1
        raise httpx.ReadTimeout("timed out", request=request)

    model = model_at("http://a/v1", "http://b/v1", transport=httpx.MockTransport(handle))
    with pytest.raises(ModelError, match="did not answer in time"):
        await model.respond(QUESTION, [])
    await model.aclose()
    assert sum(asked.values()) == 1


async def test_check_passes_while_one_of_the_servers_answers() -> None:
    asked: Counter[str] = Counter()
    model = model_at("http://a/v1", "http://b/v1", transport=counting({"a"}, asked))
    await model.check()
    await model.aclose()
    gone = model_at("http://a/v1", transport=counting({"a"}, asked))
    with pytest.raises(ModelError, match="cannot reach the model server at http://a/v1"):
        await gone.check()
    await gone.aclose()
