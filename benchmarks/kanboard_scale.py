"""How the Kanboard tools cost on a big board: index build, refresh, and p50/p95 of each read tool.

    python -m benchmarks.kanboard_scale                      # the big board, 0 and 20 ms per request
    python -m benchmarks.kanboard_scale --latency-ms 0,50 --repeat 30 --board household

The board is served in-process by the emulator (`tools.kanboard_demo`), each HTTP request delayed
by `--latency-ms` as a real Kanboard on the LAN answers (the emulator's own time comes on top:
it is no PHP, so treat its share as a floor, not a prediction). It prints:

- build: reading the whole index (`BoardIndex.load`: projects, people, every task, its details);
- refresh: the index read again after 5 tasks changed (`previous=`: only their details reread);
- each read tool through an in-process MCP client, `--repeat` calls over a few arguments each,
  once with a warm index (within its TTL) and once with `index_ttl_s=0` (every call refreshes it,
  as a question after a quiet spell does).

Numbers measured on a loaded machine say so: run it alone to compare. Nothing here runs a model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
from mcp import Client
from pydantic import SecretStr

from benchmarks.kanboard_qa.scoring import percentile
from benchmarks.kanboard_qa.suites import suites
from homelab_common.logs import configure_logging
from tools.kanboard import KanboardClient, KanboardSettings, build_server
from tools.kanboard.index import BoardIndex
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL, DemoBoard, demo_transport

CALLS: dict[str, list[dict[str, Any]]] = {  # arguments that exist on the big board; others answer too
    "search_tasks": [
        {"query": "coffee machine contract"},
        {"query": "tag:gdpr"},
        {"query": "SOC 2 evidence"},
        {"query": "Dagster"},
    ],
    "get_task": [{"task": "#1"}, {"task": "Plan the summer offsite"}, {"task": "#500"}],
    "tasks_of": [{"person": "Sam Porter"}, {"person": "Samantha Reyes"}, {"person": "Leo"}],
    "show_board": [{"project": "Office Move"}, {"project": "Customer Support"}],
    "overdue_tasks": [{}, {"project": "Billing Service"}],
    "due_soon": [{"days": 1}, {"days": 7}],
    "list_projects": [{}],
    "list_people": [{}, {"project": "Security Audit"}],
}


class Latency(httpx.AsyncBaseTransport):
    """`inner`, each request answered `seconds` later."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seconds: float) -> None:
        self.inner, self.seconds, self.requests = inner, seconds, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.seconds:
            await anyio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)


SETTINGS = KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))


async def _load(transport: httpx.AsyncBaseTransport, previous: BoardIndex | None = None) -> BoardIndex:
    async with KanboardClient(SETTINGS, transport) as kb:
        return await BoardIndex.load(
            kb, await kb.projects(), await kb.users(), ZoneInfo("UTC"), datetime.now(UTC), previous=previous
        )


def _touch(board: DemoBoard, n: int, round_: int) -> None:
    """Change `n` tasks as people do between two questions (a new title, so a new modification time)."""
    for task_id in sorted(board.tasks)[round_ * n : (round_ + 1) * n]:
        task = board.tasks[task_id]
        task.update(title=f"{task['title']} (edited)", date_modification=task["date_modification"] + 60)


async def _index_costs(seed: dict[str, Any], latency: float, rounds: int = 3) -> dict[str, float]:
    board = DemoBoard(seed)
    transport = Latency(demo_transport(board), latency)
    builds, refreshes, requests = [], [], []
    index = None
    for round_ in range(rounds):
        started = time.perf_counter()
        index = await _load(transport)
        builds.append(time.perf_counter() - started)
        _touch(board, 5, round_)
        before = transport.requests
        started = time.perf_counter()
        again = await _load(transport, previous=index)
        refreshes.append(time.perf_counter() - started)
        requests.append(transport.requests - before)
        assert again.reused == len(board.tasks) - 5, again.reused
    return {
        "tasks": float(len(board.tasks)),
        "build_s": statistics.median(builds),
        "refresh_s": statistics.median(refreshes),
        "refresh_requests": statistics.median(requests),
    }


async def _tool_costs(
    seed: dict[str, Any], latency: float, repeat: int, ttl: float
) -> dict[str, list[float]]:
    board = DemoBoard(seed)
    transport = Latency(demo_transport(board), latency)
    server = build_server(SETTINGS.model_copy(update={"index_ttl_s": ttl, "index_full_s": 3600.0}), transport)
    seconds: dict[str, list[float]] = {}
    async with Client(server) as client:
        await client.list_tools()  # builds the index, as the agent's first listing does
        for tool, arguments in CALLS.items():
            for n in range(repeat):
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments[n % len(arguments)])
                seconds.setdefault(tool, []).append(time.perf_counter() - started)
                if result.is_error and n < len(arguments):
                    print(f"  note: {tool}({arguments[n]}) answered an error", file=sys.stderr)
    return seconds


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _table(warm: dict[str, list[float]], stale: dict[str, list[float]]) -> list[str]:
    lines = [
        "| tool | p50 ms (warm) | p95 ms (warm) | p50 ms (refresh each call) | p95 ms (refresh each call) |"
    ]
    lines.append("|---|---:|---:|---:|---:|")
    for tool in CALLS:
        a, b = warm[tool], stale[tool]
        lines.append(
            f"| {tool} | {_ms(statistics.median(a))} | {_ms(percentile(a, 95))} "
            f"| {_ms(statistics.median(b))} | {_ms(percentile(b, 95))} |"
        )
    return lines


async def _measure(board: str, latencies: Sequence[float], repeat: int) -> None:
    (suite,) = suites(board)
    seed = suite.seed()
    for latency in latencies:
        costs = await _index_costs(seed, latency)
        warm = await _tool_costs(seed, latency, repeat, ttl=3600.0)
        stale = await _tool_costs(seed, latency, repeat, ttl=0.0)
        print(f"\n## {board} board, {costs['tasks']:.0f} tasks, {latency * 1000:.0f} ms per request\n")
        print(
            f"index build {_ms(costs['build_s'])} ms; refresh after 5 tasks changed "
            f"{_ms(costs['refresh_s'])} ms ({costs['refresh_requests']:.0f} HTTP requests)\n"
        )
        print("\n".join(_table(warm, stale)))


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kanboard_scale", description=__doc__)
    parser.add_argument("--board", default="big", help="the board to measure on (a --board of kanboard_qa)")
    parser.add_argument("--latency-ms", default="0,20", help="comma-separated delays per HTTP request")
    parser.add_argument("--repeat", type=int, default=20, help="calls of each tool per measurement")
    args = parser.parse_args(argv)
    configure_logging("warning")
    latencies = [float(ms) / 1000 for ms in args.latency_ms.split(",") if ms.strip()]
    print(f"# Kanboard tools at scale ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.repeat} calls per tool)")
    anyio.run(_measure, args.board, latencies, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
