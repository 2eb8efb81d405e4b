"""What the load benchmarks' clients share (`serve_load`, `serve_soak`): their options, one question
asked until it is answered, and the tally of what they saw.

The servers they load and the mix of requests are each script's own.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import httpx

__all__ = ["CHAT", "Tally", "ask_until_answered", "load_options"]

CHAT = "/v1/chat/completions"


@dataclass
class Tally:
    """What the clients of a load run saw."""

    asked: int = 0  # normal questions started
    answered: int = 0
    lost: list[str] = field(default_factory=list)  # normal questions that got no answer, and why
    retried_429: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per answer, 429 retries included
    bad_sent: Counter[str] = field(default_factory=Counter)  # bad requests (a soak), by kind
    bad_refused: Counter[str] = field(default_factory=Counter)
    bad_let_through: list[str] = field(default_factory=list)
    cancelled: int = 0  # streams dropped after their first event


def load_options(parser: argparse.ArgumentParser, *, delay: float) -> None:
    """The options of a load run on a server with a scripted model: clients, the model's delay, and
    the server's concurrency and queue size."""
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--delay", type=float, default=delay, help="seconds per scripted model turn")
    parser.add_argument("--concurrency", type=int, default=4, help="serve.concurrency")
    parser.add_argument("--queue-size", type=int, default=16, help="serve.queue_size")


async def ask_until_answered(
    http: httpx.AsyncClient,
    body: dict[str, object],
    expect: str,
    tally: Tally,
    *,
    wait: Callable[[float], float] = lambda retry_after: retry_after,
) -> None:
    """POST `body` (streamed when it says so) until it is answered; a 429 is retried after
    `wait(Retry-After)` seconds. An answer without `expect`, or any other status, is lost."""
    tally.asked += 1
    started = time.perf_counter()
    while True:
        try:
            if body.get("stream"):
                async with http.stream("POST", CHAT, json=body) as response:
                    status, retry = response.status_code, response.headers.get("retry-after", "1")
                    lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
                    text = "".join(
                        json.loads(line[6:])["choices"][0]["delta"].get("content", "")
                        for line in lines[:-1]
                        if '"choices": [{' in line
                    )
                    ok = status == 200 and lines[-1:] == ["data: [DONE]"] and expect in text
            else:
                response = await http.post(CHAT, json=body)
                status, retry = response.status_code, response.headers.get("retry-after", "1")
                ok = status == 200 and expect in response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, ValueError, IndexError) as exc:
            tally.lost.append(f"{type(exc).__name__}: {exc}")
            return
        if status == 429:
            tally.retried_429 += 1
            await anyio.sleep(wait(float(retry)))
            continue
        if ok:
            tally.answered += 1
            tally.latencies.append(time.perf_counter() - started)
        else:
            tally.lost.append(f"HTTP {status}")
        return
