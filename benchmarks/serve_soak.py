"""Soak: N concurrent clients for S seconds mixing good questions and attacks, against a real server.

The server runs in a child process (`--serve`, started by this script): the real HTTP app with a
bearer token, a `ScriptedModel` (one Kanboard tool call, then an answer, each turn after `--delay`
seconds) and the Kanboard MCP server on the built-in demo board as a stdio grandchild process, so
this measures the server and its MCP plumbing, not a model. Each client loops until time is up,
picking at random:

- a question (half of them streamed): must be answered; a 429 is retried after its Retry-After;
- an oversized body (`--big` bytes): must be refused with 413;
- a cross-site request: an evil Origin (403), a rebinding Host (421) or a text/plain body (415);
- a cancellation: a streamed question dropped after its first event (its place must come free).

It samples the server's RSS (the child and its children together) every 0.2 s, counts the MCP
server processes it ever saw, and after shutting the server down checks that none is left.

    .venv/bin/python benchmarks/serve_soak.py --clients 64 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.helpers import tree_rss  # noqa: E402 (run as a script: after the sys.path line)
from benchmarks.load import CHAT, Tally, ask_until_answered, load_options  # noqa: E402

TOKEN = "soak-benchmark-token-0123456789abcdef"
MIX = {"question": 0.55, "oversized": 0.15, "cross_site": 0.15, "cancel": 0.15}


# --- the server (child process) ---------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    """Run the server until SIGTERM; write its port to `args.port_file` once it listens."""
    from pydantic import SecretStr

    from agent.app import Runtime
    from agent.config import AgentSettings, ServerSettings, ServeSettings
    from agent.loop import Agent
    from agent.messages import Message, ToolCall, ToolSpec
    from agent.models.scripted import ScriptedModel, Turn, latest
    from agent.serve.http import http_server
    from agent.serve.service import Service
    from agent.toolsets.base import Toolbox
    from agent.toolsets.mcp import MCPToolset
    from homelab_common.logs import configure_logging

    configure_logging("warning")

    def script(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        if latest(messages).role == "user":
            return ToolCall(name="kanboard__list_projects")
        return "The board has " + latest(messages).content.splitlines()[-1][:60]

    async def main() -> None:
        model = ScriptedModel(function=script, delay_s=args.delay)
        kanboard = ServerSettings(command="homelab-agent-kanboard", env={}, timeout_s=30)
        settings = ServeSettings(
            bearer_token=SecretStr(TOKEN), concurrency=args.concurrency, queue_size=args.queue_size
        )
        async with anyio.create_task_group() as owner:
            toolbox = Toolbox([MCPToolset("kanboard", owner, settings=kanboard)])
            agent = Agent(model, toolbox, AgentSettings(max_steps=4), "You help.")
            service = Service(Runtime(agent, toolbox, {model.name: model}), settings)
            server = http_server(service, "127.0.0.1", 0)

            async def announce() -> None:
                while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                    await anyio.sleep(0.01)
                port = server.servers[0].sockets[0].getsockname()[1]
                await anyio.Path(args.port_file).write_text(str(port))

            owner.start_soon(announce)
            await server.serve()  # SIGTERM ends it gracefully (agent.serve.http), then we clean up
            await toolbox.aclose()
            owner.cancel_scope.cancel()

    anyio.run(main)


# --- the clients (this process) ---------------------------------------------------------------


def _question(n: int, stream: bool) -> dict[str, object]:
    return {"model": "homelab-agent", "stream": stream, "messages": [{"role": "user", "content": f"q{n}"}]}


async def _ask(http: httpx.AsyncClient, n: int, tally: Tally) -> None:
    def jittered(retry_after: float) -> float:
        return min(retry_after, 2.0) * random.uniform(0.5, 1.0)

    await ask_until_answered(http, _question(n, n % 2 == 1), "The board has", tally, wait=jittered)


async def _bad(http: httpx.AsyncClient, kind: str, big: int, port: int, tally: Tally) -> None:
    body = json.dumps(_question(0, False))
    if kind == "oversized":
        request = http.build_request(
            "POST", CHAT, json={"messages": [{"role": "user", "content": "x" * big}]}
        )
        expected = 413
    else:
        kind = random.choice(["origin", "host", "text_plain"])
        headers = {"Content-Type": "application/json"}
        if kind == "origin":
            headers["Origin"], expected = "http://evil.example", 403
        elif kind == "host":
            headers["Host"], expected = f"evil.example:{port}", 421
        else:
            headers["Content-Type"], expected = "text/plain", 415
        request = http.build_request("POST", CHAT, content=body, headers=headers)
    tally.bad_sent[kind] += 1
    try:
        response = await http.send(request)
    except httpx.HTTPError as exc:  # the server may close a connection it refused a big body on
        if kind == "oversized":
            tally.bad_refused[kind] += 1
            return
        tally.bad_let_through.append(f"{kind}: {type(exc).__name__}")
        return
    if response.status_code == expected:
        tally.bad_refused[kind] += 1
    else:
        tally.bad_let_through.append(f"{kind}: HTTP {response.status_code}")


async def _cancel(http: httpx.AsyncClient, n: int, tally: Tally) -> None:
    async with http.stream("POST", CHAT, json=_question(n, True)) as response:
        if response.status_code == 200:
            async for _ in response.aiter_lines():
                break  # the first event: the run has its place; now go away
    tally.cancelled += 1


def start_server() -> tuple[subprocess.Popen[bytes], Path]:
    """The server child process (on the demo board), and the file it writes its port to."""
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    port_file = folder / "port"
    with (folder / "server.log").open("wb") as log:  # the child keeps its own handle
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--port-file", str(port_file), *sys.argv[1:]],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("KANBOARD_")},  # the demo board
            stderr=log,
        )
    return child, port_file


async def soak(args: argparse.Namespace, child: subprocess.Popen[bytes], port_file: Path) -> int:
    server = psutil.Process(child.pid)
    written = anyio.Path(port_file)
    with anyio.fail_after(60):
        while not await written.exists() or not await written.read_text():  # noqa: ASYNC110
            await anyio.sleep(0.05)
    port = int(await written.read_text())
    tally, rss, mcp_pids = Tally(), [0], set[int]()
    max_mcp = [0]

    async def sample() -> None:
        while True:
            now: set[int] = set()
            rss.append(tree_rss(server, now, marked="homelab-agent-kanboard"))
            mcp_pids.update(now)
            max_mcp[0] = max(max_mcp[0], len(now))
            await anyio.sleep(0.2)

    limits = httpx.Limits(max_connections=args.clients * 2)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + args.seconds
    counter = iter(range(10**9))
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120, limits=limits
        ) as http,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(sample)

        async def client() -> None:
            while time.monotonic() < deadline:
                kind = random.choices(list(MIX), weights=list(MIX.values()))[0]
                n = next(counter)
                if kind == "question":
                    await _ask(http, n, tally)
                elif kind == "cancel":
                    await _cancel(http, n, tally)
                else:
                    await _bad(http, kind, args.big, port, tally)

        started = time.perf_counter()
        async with anyio.create_task_group() as clients:
            for _ in range(args.clients):
                clients.start_soon(client)
        wall = time.perf_counter() - started
        await anyio.sleep(0.5)
        metrics = (await http.get("/metrics")).text
        tg.cancel_scope.cancel()

    child.send_signal(signal.SIGTERM)
    try:
        await anyio.to_thread.run_sync(lambda: child.wait(timeout=30))
    except subprocess.TimeoutExpired:
        child.kill()
    await anyio.sleep(1.0)
    orphans = [pid for pid in mcp_pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]

    def metric(name: str) -> str:
        return next((line.split()[-1] for line in metrics.splitlines() if line.startswith(name)), "?")

    lat = sorted(tally.latencies)
    mib = [r / 2**20 for r in rss[1:]] or [0.0]
    sent, refused = sum(tally.bad_sent.values()), sum(tally.bad_refused.values())
    kinds = ", ".join(f"{k} {tally.bad_refused[k]}/{n}" for k, n in sorted(tally.bad_sent.items()))
    cancelled_runs = metric('homelab_agent_runs_total{outcome="cancelled"}')
    lines = [
        f"serve_soak: {args.clients} clients for {args.seconds:g}s against a server process",
        f"  server: concurrency {args.concurrency}, queue_size {args.queue_size}, "
        f"model delay {args.delay}s x 2 turns,",
        "          Kanboard MCP server (demo board) over stdio, bearer token, default limits",
        f"  wall {wall:.1f}s",
        f"  questions: {tally.asked} asked, {tally.answered} answered, {len(tally.lost)} lost, "
        f"{tally.retried_429} 429s retried",
    ]
    if lat:
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        lines.append(f"    latency p50 {p50:.2f}s  p99 {p99:.2f}s  max {lat[-1]:.2f}s (429 retries included)")
    lines += [
        f"  bad requests: {sent} sent, {refused} refused as expected, "
        f"{len(tally.bad_let_through)} let through",
        f"    by kind: {kinds}",
        f"  cancellations: {tally.cancelled} streams dropped after their first event",
        f"  server after the load: in flight {metric('homelab_agent_in_flight')}, "
        f"waiting {metric('homelab_agent_queue_depth')}, runs cancelled {cancelled_runs}",
        f"  server RSS (process + children): start {mib[0]:.0f} MiB, peak {max(mib):.0f} MiB, "
        f"end {mib[-1]:.0f} MiB",
        f"  MCP server processes: {len(mcp_pids)} started in all, at most {max_mcp[0]} at once, "
        f"{len(orphans)} left after shutdown",
    ]
    lines += [f"  problem: {p}" for p in (tally.lost + tally.bad_let_through)[:5]]
    lines.append(f"  server log: {port_file.parent / 'server.log'}")
    ok = not tally.lost and not tally.bad_let_through and not orphans and tally.answered == tally.asked
    lines.append(
        "  verdict: " + ("every question answered, every bad request refused, no orphans" if ok else "FAILED")
    )
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    load_options(parser, delay=0.02)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--big", type=int, default=4 * 2**20, help="bytes of an oversized body")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments)
    else:
        process, port_path = start_server()
        sys.exit(anyio.run(soak, arguments, process, port_path))
