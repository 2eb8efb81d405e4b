"""`homelab-agent serve` restarted between a chat question's approval and the user's "yes".

Everything on loopback, started and stopped by this script: the demo Kanboard over HTTP (so the
board outlives the restart), and `homelab-agent serve --transport http` from this checkout with a
config it writes: the real model (`--model`, default the 1.5B), the Kanboard MCP server with writes
on, and `serve.store` a SQLite file in a temporary folder. Then, with the OpenAI API:

1. ask a write question (`--question`): the answer must be the approval question, and no task made;
2. stop serve (SIGTERM) and start it again on the same store;
3. answer "yes" in the next message: the task must be created, once (read back from the board);
4. answer "yes" again with the same reference: must be refused (409), and still one task.

    .venv/bin/python benchmarks/serve_restart.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.helpers import free_port  # noqa: E402 (run as a script: after the sys.path line)

TOKEN = "restart-benchmark-token-0123456789abcdef"
TITLE = "Oil the rack fan"


def wait_http(url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {within:.0f}s")


def config(tmp: Path, kanboard: str, model: str, threads: int) -> Path:
    path = tmp / "homelab-agent.toml"
    path.write_text(
        f"""
[models.large]
source = "{model}"
n_ctx = 8192
n_threads = {threads}
constrained = true

[agent]
model = "large"

[logging]
level = "info"
format = "json"

[serve]
bearer_token = "{TOKEN}"
store = "{tmp / "serve.sqlite3"}"

[mcpServers.kanboard]
command = "homelab-agent-kanboard"
env = {{ KANBOARD_URL = "{kanboard}", KANBOARD_TOKEN = "demo-token", KANBOARD_ENABLE_WRITES = "true" }}
timeout_s = 30
"""
    )
    return path


def start_serve(cfg: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent",
            "--config",
            str(cfg),
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
        ],
        stderr=log,
        cwd=str(ROOT),
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"},
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", 300)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def chat(*turns: str) -> dict[str, Any]:
    roles = ("user", "assistant")
    return {
        "model": "homelab-agent",
        "messages": [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)],
    }


def tasks_titled(kanboard: str, title: str) -> int:
    body = {"jsonrpc": "2.0", "method": "getAllTasks", "id": 1, "params": {"project_id": 1, "status_id": 1}}
    tasks = httpx.post(kanboard, json=body, auth=("jsonrpc", "demo-token")).json()["result"]
    return sum(str(t["title"]).strip().lower() == title.lower() for t in tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--question", default=f'Create a task "{TITLE}" in the Homelab project')
    parser.add_argument("--keep", action="store_true", help="keep the logs and the store")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="serve-restart-"))
    kport, sport = free_port(), free_port()
    kanboard = f"http://127.0.0.1:{kport}/jsonrpc.php"
    log = (tmp / "serve.log").open("wb")
    bin_dir = Path(sys.executable).parent
    board = subprocess.Popen(
        [str(bin_dir / "homelab-agent-kanboard"), "demo", "--port", str(kport)], stderr=log
    )
    report: dict[str, Any] = {"model": args.model, "question": args.question}
    serve = None
    try:
        wait_http(f"http://127.0.0.1:{kport}/jsonrpc.php", 30)
        cfg = config(tmp, kanboard, args.model, args.threads)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        base = f"http://127.0.0.1:{sport}"
        serve = start_serve(cfg, sport, log)
        started = time.perf_counter()
        asked = httpx.post(
            f"{base}/v1/chat/completions", json=chat(args.question), headers=headers, timeout=600
        )
        report["question_s"] = round(time.perf_counter() - started, 1)
        question = asked.json()["choices"][0]["message"]["content"]
        report["approval_question"] = question
        report["tasks_before_yes"] = tasks_titled(kanboard, TITLE)
        stop(serve)
        report["serve_restarted"] = True
        serve = start_serve(cfg, sport, log)
        started = time.perf_counter()
        done = httpx.post(
            f"{base}/v1/chat/completions",
            json=chat(args.question, question, "yes"),
            headers=headers,
            timeout=600,
        )
        report["yes_s"] = round(time.perf_counter() - started, 1)
        report["yes_status"] = done.status_code
        report["answer"] = (
            done.json()["choices"][0]["message"]["content"] if done.status_code == 200 else done.text
        )
        again = httpx.post(
            f"{base}/v1/chat/completions",
            json=chat(args.question, question, "yes"),
            headers=headers,
            timeout=600,
        )
        report["second_yes_status"] = again.status_code
        report["tasks_after"] = tasks_titled(kanboard, TITLE)
    finally:
        if serve is not None:
            stop(serve)
        stop(board)
        log.close()
        if args.keep:
            print(f"logs and store kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=2))
    once = (
        report["tasks_before_yes"] == 0 and report["tasks_after"] == 1 and report["second_yes_status"] == 409
    )
    print(
        f"\nasked for approval: {'apv-' in report['approval_question']}; restarted; "
        f"yes -> {report['yes_status']}; "
        f"second yes -> {report['second_yes_status']}; tasks {report['tasks_before_yes']} before, "
        f"{report['tasks_after']} after: {'written once' if once else 'NOT written once'}"
    )
    if not once:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
