"""Two `serve` replicas behind nginx on one Redis: conversations, approvals and a replica killed mid-question.

Everything on loopback, started and stopped by this script:

- the demo Kanboard (`homelab-agent-kanboard demo`), one board both replicas write to;
- `redis-server` (Debian's), no persistence: the replicas' `serve.store`;
- two replicas (`--replica`, children of this script): the real HTTP app with a bearer token,
  `serve.stateless_mcp`, a `ScriptedModel` that names its replica in every answer and calls
  `kanboard__create_task` for "Add a task …" (so this measures the serving, not a model), and the
  Kanboard MCP server (writes on) as a stdio grandchild;
- nginx (Debian's `nginx-light`), round-robin over the two, `X-Upstream` naming the one that answered.

Then, through nginx only:

1. `--conversations` MCP conversations (the SDK client, 2026-07-28): a question, then a follow-up
   with its `session_id`: continued across replicas when the two answers name different replicas;
2. `--approvals` chat approvals (the OpenAI API): "Add a task …" answered with the approval
   question, then "yes" in the next message: across replicas when the two responses came from
   different upstreams; the board must hold each task exactly once;
3. one MCP approval (elicitation, InputRequiredResult then the retry);
4. a slow question whose replica is killed (SIGKILL) while it answers: the client must get a clear
   error (nginx's 502) within seconds, and the same question asked again must be answered by the
   survivor; every conversation and pending approval made before the kill must still work after.

    .venv/bin/python benchmarks/serve_replicas.py --conversations 20 --approvals 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.helpers import free_port  # noqa: E402 (run as a script: after the sys.path line)

TOKEN = "replicas-benchmark-token-0123456789abcdef"
CHAT = "/v1/chat/completions"
SLOW = "slow"  # a question with this word takes --slow seconds to answer


# --- a replica (child process) ----------------------------------------------------------------


def replica(args: argparse.Namespace) -> None:
    """Serve until SIGTERM: the real app, a scripted model that names this replica, one Kanboard."""
    from pydantic import SecretStr

    from agent.app import Runtime
    from agent.config import AgentSettings, ServerSettings, ServeSettings
    from agent.loop import Agent
    from agent.messages import Message, ModelResponse, ToolCall, ToolSpec
    from agent.models.base import TextSink, ToolChoice
    from agent.models.scripted import ScriptedModel, Turn, latest
    from agent.serve.http import http_server
    from agent.serve.service import Service
    from agent.toolsets.base import Toolbox
    from agent.toolsets.mcp import MCPToolset
    from homelab_common.logs import configure_logging

    configure_logging("warning")
    name = args.name

    def script(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        last = latest(messages)
        if last.role == "tool":
            return f"[{name}] {last.content}"
        if last.content.startswith("Add a task "):
            title = last.content.removeprefix("Add a task ").strip()
            return ToolCall(name="kanboard__create_task", arguments={"project": "Homelab", "title": title})
        asked = [m.content for m in messages if m.role == "user" and not (m.is_reminder or m.is_correction)]
        return f"[{name}] " + " | ".join(asked)

    class Slow(ScriptedModel):
        """Takes `args.slow` seconds over a question with the word "slow" in it."""

        async def respond(
            self,
            messages: Sequence[Message],
            tools: Sequence[ToolSpec],
            *,
            on_text: TextSink | None = None,
            tool_choice: ToolChoice = "auto",
            calls: Sequence[ToolSpec] | None = None,
        ) -> ModelResponse:
            if SLOW in latest(messages).content:
                await anyio.sleep(args.slow)
            return await super().respond(
                messages, tools, on_text=on_text, tool_choice=tool_choice, calls=calls
            )

    async def main() -> None:
        model = Slow(function=script, delay_s=0.02, model_name="scripted")
        env = {
            "KANBOARD_URL": args.kanboard,
            "KANBOARD_TOKEN": "demo-token",
            "KANBOARD_ENABLE_WRITES": "true",
        }
        kanboard = ServerSettings(command="homelab-agent-kanboard", env=env, timeout_s=30)  # type: ignore[arg-type]
        settings = ServeSettings(
            bearer_token=SecretStr(TOKEN),
            store=args.redis,
            stateless_mcp=True,
            concurrency=2,
            approval_timeout_s=120,
        )
        async with anyio.create_task_group() as owner:
            toolbox = Toolbox([MCPToolset("kanboard", owner, settings=kanboard)])
            agent = Agent(model, toolbox, AgentSettings(max_steps=4, first_step="auto"), "You help.")
            service = Service(Runtime(agent, toolbox, {model.name: model}), settings)
            server = http_server(service, "127.0.0.1", args.port)
            await server.serve()
            await service.aclose()
            await toolbox.aclose()
            owner.cancel_scope.cancel()

    anyio.run(main)


# --- the stack (this process) -----------------------------------------------------------------


def wait_port(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {within:.0f}s")


NGINX = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream replicas {{
        server 127.0.0.1:{a} max_fails=0;
        server 127.0.0.1:{b} max_fails=0;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Stack:
    """The processes this script started, by name, and the ports they listen on."""

    processes: dict[str, subprocess.Popen[bytes]]
    ports: dict[str, int]
    tmp: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx']}"

    def replica_of(self, upstream: str) -> str:
        """Which replica an `X-Upstream` value names."""
        port = int(upstream.rsplit(":", 1)[-1]) if upstream else -1
        return next((n for n in ("A", "B") if self.ports[n] == port), "?")


def need(binary: str, package: str) -> str:
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if found is None:
        raise SystemExit(f"{binary} is not installed: apt-get install {package}")
    return found


@contextmanager
def stack(args: argparse.Namespace) -> Iterator[Stack]:
    tmp = Path(tempfile.mkdtemp(prefix="serve-replicas-"))
    ports = {name: free_port() for name in ("kanboard", "redis", "A", "B", "nginx")}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    log = (tmp / "stack.log").open("wb")
    env = dict(os.environ)
    try:
        processes["kanboard"] = subprocess.Popen(
            ["homelab-agent-kanboard", "demo", "--port", str(ports["kanboard"])], stderr=log, env=env
        )
        redis_args = [
            "--bind",
            "127.0.0.1",
            "--port",
            str(ports["redis"]),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        processes["redis"] = subprocess.Popen(
            [need("redis-server", "redis-server"), *redis_args, "--dir", str(tmp)], stdout=log, stderr=log
        )
        wait_port(ports["kanboard"])
        wait_port(ports["redis"])
        for name in ("A", "B"):
            processes[name] = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--replica",
                    "--name",
                    name,
                    "--port",
                    str(ports[name]),
                    "--redis",
                    f"redis://127.0.0.1:{ports['redis']}/0",
                    "--kanboard",
                    f"http://127.0.0.1:{ports['kanboard']}/jsonrpc.php",
                    "--slow",
                    str(args.slow),
                ],
                stderr=log,
                env=env,
                cwd=str(ROOT),
            )
        for name in ("A", "B"):
            wait_port(ports[name], 60)
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX.format(tmp=tmp, a=ports["A"], b=ports["B"], port=ports["nginx"]))
        processes["nginx"] = subprocess.Popen(
            [need("nginx", "nginx-light"), "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"], stderr=log
        )
        wait_port(ports["nginx"])
        yield Stack(processes, ports, tmp)
    finally:
        for name in ("nginx", "A", "B", "redis", "kanboard"):
            process = processes.get(name)
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if args.keep:
            print(f"logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# --- the clients --------------------------------------------------------------------------------


def replica_in(answer: str) -> str:
    return answer[1] if answer.startswith("[") and len(answer) > 2 else "?"


def chat_body(*turns: str) -> dict[str, Any]:
    roles = ("user", "assistant")
    return {
        "model": "homelab-agent",
        "messages": [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)],
    }


def mcp_client(base: str, **kwargs: Any) -> Any:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    return Client(streamable_http_client(f"{base}/mcp", http_client=http), **kwargs)


async def conversation(base: str, n: int) -> tuple[str, str, bool]:
    """A question and its follow-up over MCP: (first replica, second replica, continued?)."""
    async with mcp_client(base) as mcp:
        first = await mcp.call_tool("ask", {"question": f"q{n}"})
        sid = first.structured_content["session_id"]
        if n % 2:  # one more request, so that round-robin sends the follow-up to the other replica
            await mcp.list_tools()
        second = await mcp.call_tool("ask", {"question": f"q{n} again", "session_id": sid})
    one, two = first.structured_content["answer"], second.structured_content["answer"]
    return replica_in(one), replica_in(two), two.endswith(f"q{n} | q{n} again")


async def approval(http: httpx.AsyncClient, stack: Stack, title: str) -> tuple[str, str, bool]:
    """A chat approval: (replica that asked, replica that wrote, answered 'created'?)."""
    asked = await http.post(CHAT, json=chat_body(f"Add a task {title}"))
    question = asked.json()["choices"][0]["message"]["content"]
    done = await http.post(CHAT, json=chat_body(f"Add a task {title}", question, "yes"))
    answer = done.json()["choices"][0]["message"]["content"] if done.status_code == 200 else done.text
    return (
        stack.replica_of(asked.headers.get("x-upstream", "")),
        stack.replica_of(done.headers.get("x-upstream", "")),
        "Created task" in answer,
    )


async def board_titles(stack: Stack) -> list[str]:
    """The titles of the open tasks in the Homelab project of the demo board."""
    url = f"http://127.0.0.1:{stack.ports['kanboard']}/jsonrpc.php"
    body = {"jsonrpc": "2.0", "method": "getAllTasks", "id": 1, "params": {"project_id": 1, "status_id": 1}}
    async with httpx.AsyncClient(auth=("jsonrpc", "demo-token")) as http:
        tasks = (await http.post(url, json=body)).json()["result"]
    return [str(t["title"]) for t in tasks]


async def measure(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    import mcp_types as types

    headers = {"Authorization": f"Bearer {TOKEN}"}
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=stack.base, headers=headers, timeout=60) as http:
        conversations = [await conversation(stack.base, n) for n in range(args.conversations)]
        report["conversations"] = len(conversations)
        report["conversations_continued"] = sum(ok for _, _, ok in conversations)
        report["conversations_across_replicas"] = sum(a != b and ok for a, b, ok in conversations)

        approvals = [await approval(http, stack, f"replica check {n}") for n in range(args.approvals)]
        report["chat_approvals"] = len(approvals)
        report["chat_approvals_written"] = sum(ok for _, _, ok in approvals)
        report["chat_approvals_across_replicas"] = sum(a != b and ok for a, b, ok in approvals)

        asked: list[str] = []

        async def accept(context: object, params: Any) -> types.ElicitResult:
            asked.append(params.message)
            return types.ElicitResult(action="accept", content={"approve": True})

        async with mcp_client(stack.base, elicitation_callback=accept) as mcp:
            result = await mcp.call_tool("ask", {"question": "Add a task mcp replica check"})
        report["mcp_approval_written"] = "Created task" in result.structured_content["answer"]

        # before the kill: a conversation and a pending chat approval, both kept in Redis
        async with mcp_client(stack.base) as mcp:
            kept = await mcp.call_tool("ask", {"question": "before the kill"})
        kept_sid = kept.structured_content["session_id"]
        pending = await http.post(CHAT, json=chat_body("Add a task after the kill"))
        pending_question = pending.json()["choices"][0]["message"]["content"]

        # the kill: a slow question, its replica killed while it answers
        outcome: dict[str, Any] = {}

        async def slow() -> None:
            started = time.perf_counter()
            try:
                response = await http.post(CHAT, json=chat_body(f"a {SLOW} question"), timeout=args.slow + 30)
                outcome["status"], outcome["body"] = response.status_code, response.text[:120]
            except httpx.HTTPError as exc:
                outcome["status"], outcome["body"] = type(exc).__name__, str(exc)[:120]
            outcome["seconds"] = round(time.perf_counter() - started, 2)

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            victim = None
            with anyio.fail_after(10):
                while victim is None:
                    await anyio.sleep(0.05)
                    for name in ("A", "B"):
                        health = await http.get(f"http://127.0.0.1:{stack.ports[name]}/healthz")
                        if health.json()["queue"]["active"]:
                            victim = name
            killed_at = time.perf_counter()
            stack.processes[victim].kill()
        outcome["killed"] = victim
        outcome["error_after_kill_s"] = round(time.perf_counter() - killed_at, 2)
        report["kill"] = outcome

        retried = await http.post(CHAT, json=chat_body(f"a {SLOW} question"), timeout=args.slow + 30)
        report["kill"]["retry_status"] = retried.status_code
        report["kill"]["retry_answered_by"] = stack.replica_of(retried.headers.get("x-upstream", ""))

        lost: list[str] = []
        async with mcp_client(stack.base) as mcp:
            after = await mcp.call_tool("ask", {"question": "after the kill", "session_id": kept_sid})
        if after.is_error or not after.structured_content["answer"].endswith(
            "before the kill | after the kill"
        ):
            lost.append("the conversation started before the kill")
        done = await http.post(CHAT, json=chat_body("Add a task after the kill", pending_question, "yes"))
        if done.status_code != 200 or "Created task" not in done.json()["choices"][0]["message"]["content"]:
            lost.append(f"the approval asked before the kill ({done.status_code})")

        titles = await board_titles(stack)
        wanted = [f"replica check {n}" for n in range(args.approvals)] + [
            "mcp replica check",
            "after the kill",
        ]
        counts = {t: titles.count(t) for t in wanted}
        report["tasks_written_once"] = sum(c == 1 for c in counts.values())
        report["tasks_expected"] = len(wanted)
        lost += [f"task {t!r} written {c} times" for t, c in counts.items() if c != 1]
        report["lost"] = len(lost)
        report["lost_detail"] = lost
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--approvals", type=int, default=10)
    parser.add_argument("--slow", type=float, default=5.0, help="seconds the slow question takes")
    parser.add_argument("--keep", action="store_true", help="keep the logs and configs")
    parser.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="A", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--redis", default="", help=argparse.SUPPRESS)
    parser.add_argument("--kanboard", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica:
        replica(args)
        return
    started = time.perf_counter()
    with stack(args) as running:
        report = anyio.run(measure, args, running)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    print(
        f"\n{report['conversations_continued']}/{report['conversations']} conversations continued "
        f"({report['conversations_across_replicas']} across replicas); "
        f"{report['chat_approvals_written']}/{report['chat_approvals']} chat approvals written "
        f"({report['chat_approvals_across_replicas']} asked on one replica, answered on the other); "
        f"MCP approval written: {report['mcp_approval_written']}; "
        f"kill: {report['kill']['status']} after {report['kill']['error_after_kill_s']}s, retry "
        f"{report['kill']['retry_status']} from {report['kill']['retry_answered_by']}; "
        f"tasks written once {report['tasks_written_once']}/{report['tasks_expected']}; "
        f"lost = {report['lost']}"
    )
    if report["lost"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
