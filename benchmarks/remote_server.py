"""The Kanboard questions through a real llama-server beside the same model in-process, and failover.

    python -m benchmarks.remote_server side-by-side --model Q15.gguf --threads 2 --subset 8
    python -m benchmarks.remote_server failover --model Q15.gguf --threads 1 --subset 8 --kill-at 20

`side-by-side` starts llama.cpp's `llama-server` (benchmarks/peers/build_llama_server.sh builds it)
on the GGUF with `--jinja`, one slot and the in-process context size, and asks every question of
both boards of both contenders in turn (`run_side_by_side`: interleaved, so a busy CPU slows both):
the in-process `LocalModel`, and the `openai` backend pointed at the server (constraint detected:
`grammar`). It prints, per board and contender: valid calls, accuracy, median latency, and the
prompt tokens per model step with those the server (or the local KV cache) had cached.

`failover` starts two llama-servers and one model entry with both URLs, kills the first `--kill-at`
seconds into the run and starts it again (same port) `--down-for` seconds later, and prints how
many questions were answered (no run error) and how many requests were retried. `--ping N` asks N
one-line questions without tools instead of the Kanboard ones (the failover, not the model, is
what it measures; minutes less on a busy CPU).

This module measures; it asserts nothing. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
import structlog

from agent.config import AgentSettings
from agent.exceptions import ModelError
from agent.messages import Message
from agent.models.base import Model
from agent.models.factory import build_model
from agent.models.settings import LlamaSettings, OpenAISettings
from benchmarks.helpers import free_port, progress
from benchmarks.kanboard_qa.questions import pick
from benchmarks.kanboard_qa.report import summarise
from benchmarks.kanboard_qa.runner import Contender, run_side_by_side
from benchmarks.kanboard_qa.suites import suites
from benchmarks.runner import Results
from homelab_common.logs import configure_logging

N_CTX = 8192  # the in-process default (LlamaSettings.n_ctx)


class Server:
    """One llama-server process on a fixed loopback port, which can be killed and started again."""

    def __init__(self, binary: Path, model: Path, threads: int, logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.command = [
            str(binary), "--model", str(model), "--jinja", "--threads", str(threads),
            "--threads-batch", str(threads), "--ctx-size", str(N_CTX), "--parallel", "1",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-webui",
        ]  # fmt: skip
        self.log = logs / f"llama-server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        if wait:
            self.wait()

    def wait(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"llama-server did not come up:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _per_step(results: Results) -> tuple[float, float]:
    """Mean prompt tokens and cached prompt tokens per model step."""
    steps = sum(o.steps for o in results.outcomes) or 1
    return (
        sum(o.input_tokens for o in results.outcomes) / steps,
        sum(o.cached_tokens for o in results.outcomes) / steps,
    )


def _print(results: Sequence[Results]) -> None:
    print(
        "| contender | board | n | valid calls | accuracy | median s | p90 s "
        "| prompt tok/step | cached tok/step |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        s = summarise(r)
        prompt, cached = _per_step(r)
        print(
            f"| {r.label} | {r.board} | {s.n} | {s.valid_calls:.0%} | {s.accuracy:.0%} | {s.median_s:.1f} "
            f"| {s.p90_s:.1f} | {prompt:.0f} | {cached:.0f} |",
            flush=True,
        )


async def _ask(contenders: list[Contender], args: argparse.Namespace, out: Path) -> list[Results]:
    settings = AgentSettings().model_copy(update={"max_steps": 6})
    every: list[Results] = []
    for suite in suites(args.board):
        questions = pick(suite.questions, subset=args.subset)

        results = await run_side_by_side(
            contenders,
            questions,
            agent_settings=settings,
            suite=suite,
            on_outcome=progress(out / "outcomes.jsonl"),  # a run cut short still leaves its answers
        )
        for r in results:
            (out / f"{r.label}-{suite.name}.json").write_text(r.model_dump_json(indent=1))
        every += results
    return every


def side_by_side(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = Server(args.binary, args.model, args.threads, out)
    server.start()
    models: list[Model] = []
    try:
        local = build_model(
            LlamaSettings(source=str(args.model), n_threads=args.threads, temperature=0.0), "in-process", out
        )
        remote = build_model(OpenAISettings(url=server.url, temperature=0.0), "llama-server", out)
        models = [local, remote]
        contenders = [Contender("in-process", local), Contender("llama-server", remote)]
        print(f"llama-server: {' '.join(server.command)}", flush=True)

        async def run() -> list[Results]:
            try:
                return await _ask(contenders, args, out)
            finally:
                for m in models:
                    await m.aclose()  # on the loop its HTTP client was used on

        results = anyio.run(run)
    finally:
        server.stop()
    _print(results)
    return 0


async def _ping(model: Model, n: int) -> tuple[int, int]:
    """Ask `n` one-line questions in a row; how many were answered."""
    answered = 0
    for i in range(n):
        started = time.monotonic()
        try:
            response = await model.respond([Message.user(f"Reply with the number {i} and nothing else.")], [])
        except ModelError as exc:
            print(f"question {i}: ERROR {exc}", file=sys.stderr, flush=True)
            continue
        answered += 1
        print(
            f"question {i}: {time.monotonic() - started:5.1f}s {response.text!r}", file=sys.stderr, flush=True
        )
    return answered, n


def failover(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    first, second = (Server(args.binary, args.model, args.threads, out) for _ in range(2))
    first.start(wait=False)
    second.start()
    first.wait()
    retries: list[dict[str, Any]] = []

    def count(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if event.get("event") == "model.retry":
            retries.append(dict(event))
        return event

    structlog.configure(processors=[count, *structlog.get_config()["processors"]])
    events: list[str] = []

    def chaos() -> None:
        time.sleep(args.kill_at)
        first.kill()
        events.append(f"{time.strftime('%H:%M:%S')} killed {first.url}")
        print(events[-1], file=sys.stderr, flush=True)
        time.sleep(args.down_for)
        first.start()
        events.append(f"{time.strftime('%H:%M:%S')} {first.url} back")
        print(events[-1], file=sys.stderr, flush=True)

    entry = OpenAISettings(url=first.url, urls=[second.url], temperature=0.0, max_tokens=args.ping_tokens)
    model = build_model(entry if args.ping else entry.model_copy(update={"max_tokens": 512}), "two", out)
    threading.Thread(target=chaos, daemon=True).start()

    async def run() -> tuple[int, int]:
        try:
            if args.ping:  # short questions, no tools: the failover itself, not the model, is measured
                return await _ping(model, args.ping)
            results = await _ask([Contender("two-servers", model)], args, out)
            _print(results)
            return sum(o.error is None for r in results for o in r.outcomes), sum(
                len(r.outcomes) for r in results
            )
        finally:
            await model.aclose()  # on the loop its HTTP clients were used on

    try:
        answered, total = anyio.run(run)
    finally:
        first.stop()
        second.stop()
    print(f"answered {answered}/{total} questions; {len(retries)} tries retried; " + "; ".join(events))
    for r in retries:
        print(f"  retry: {r.get('server')} {r.get('error')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("mode", choices=["side-by-side", "failover"])
    parser.add_argument("--model", type=Path, required=True, help="the GGUF both contenders run")
    parser.add_argument("--binary", type=Path, help="llama-server; default: build_llama_server.sh's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--subset", type=int, default=8, help="questions per board, spread over the categories"
    )
    parser.add_argument("--board", default="all")
    parser.add_argument("--kill-at", type=float, default=20.0, help="failover: seconds before the kill")
    parser.add_argument("--down-for", type=float, default=15.0, help="failover: seconds before the restart")
    parser.add_argument("--ping", type=int, default=0, help="failover: N one-line questions instead")
    parser.add_argument("--ping-tokens", type=int, default=8, help="failover --ping: tokens per answer")
    parser.add_argument("--out", type=Path, default=Path("bench-out/remote"))
    args = parser.parse_args(argv)
    if args.binary is None:
        built = subprocess.run(
            ["benchmarks/peers/build_llama_server.sh"], capture_output=True, text=True, check=True
        )
        args.binary = Path(built.stdout.strip().splitlines()[-1])
    configure_logging("warning")
    return side_by_side(args) if args.mode == "side-by-side" else failover(args)


if __name__ == "__main__":
    raise SystemExit(main())
