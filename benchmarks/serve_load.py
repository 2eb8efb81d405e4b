"""Load on the real HTTP server: N concurrent clients x M questions against uvicorn on loopback.

The agent runs with a `ScriptedModel` (one tool call, then an answer, each after `--delay` seconds)
and an in-process MCP tool, so this measures the server (queueing, HTTP, SSE, the loop, MCP calls),
not a model. Half the clients stream (SSE), half do not. A 429 is retried after its Retry-After;
anything else that ends without an answer counts as lost. Latency is per question, first attempt
to answer, retries included. Peak RSS is this whole process (server and clients).

    .venv/bin/python benchmarks/serve_load.py --clients 64 --questions 4
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import anyio
import httpx
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.app import Runtime
from agent.config import AgentSettings, ServeSettings
from agent.loop import Agent
from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from agent.serve.http import http_server
from agent.serve.service import Service
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from benchmarks.load import Tally, ask_until_answered, load_options
from homelab_common.logs import configure_logging

TOKEN = "benchmark-token-0123456789"


def _tools_server() -> MCPServer:
    server = MCPServer("box")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def uptime() -> str:
        """How long the box has been up."""
        return "up 41 days, load 0.12"

    return server


def _script(messages: list[Message], tools: list[ToolSpec]) -> Turn:
    if latest(messages).role == "user":
        return ToolCall(name="box__uptime")
    return f"The box is {latest(messages).content}."


async def main(args: argparse.Namespace) -> None:
    model = ScriptedModel(function=_script, delay_s=args.delay)
    settings = ServeSettings(
        bearer_token=SecretStr(TOKEN), concurrency=args.concurrency, queue_size=args.queue_size
    )
    tally = Tally()
    async with anyio.create_task_group() as owner:
        toolbox = Toolbox([MCPToolset("box", owner, server=_tools_server())])
        service = Service(Runtime(Agent(model, toolbox, AgentSettings(), "You help."), toolbox, {}), settings)
        server = http_server(service, "127.0.0.1", 0)
        owner.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        limits = httpx.Limits(max_connections=args.clients * 2)
        started = time.perf_counter()
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=args.timeout,
            limits=limits,
        ) as http:

            async def client(c: int) -> None:
                for q in range(args.questions):
                    question = f"client {c} question {q}: is the box up?"
                    body = {
                        "model": "homelab-agent",
                        "messages": [{"role": "user", "content": question}],
                        "stream": c % 2 == 1,
                    }
                    await ask_until_answered(http, body, "up 41 days", tally)

            async with anyio.create_task_group() as tg:
                for c in range(args.clients):
                    tg.start_soon(client, c)
        wall = time.perf_counter() - started
        metrics = service.metrics.render().decode()
        server.should_exit = True
        await toolbox.aclose()

    lat = sorted(tally.latencies)

    def p(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = args.clients * args.questions
    print(f"serve_load: {args.clients} clients x {args.questions} questions = {total} (half streaming)")
    print(f"  server: concurrency {args.concurrency}, queue_size {args.queue_size}, ", end="")
    print(f"model delay {args.delay}s x 2 turns")
    print(f"  answered {tally.answered}  lost {len(tally.lost)}  429s {tally.retried_429} (each retried)")
    if lat:
        print(f"  latency p50 {p(0.5):.3f}s  p99 {p(0.99):.3f}s  max {lat[-1]:.3f}s", end="")
        print(f"  mean {statistics.mean(lat):.3f}s")
    print(f"  wall {wall:.2f}s  throughput {tally.answered / wall:.1f} answers/s")
    print(f"  peak RSS {rss_mb:.0f} MiB (this process: server + clients)")
    queue_line = next(
        (line for line in metrics.splitlines() if line.startswith("homelab_agent_rejected_total")), ""
    )
    print(f"  server metrics: {queue_line}")
    for error in tally.lost[:5]:
        print(f"  error: {error}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    load_options(parser, delay=0.01)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, seconds")
    parser.add_argument("--log-level", default="warning")
    arguments = parser.parse_args()
    configure_logging(arguments.log_level)
    anyio.run(main, arguments)
