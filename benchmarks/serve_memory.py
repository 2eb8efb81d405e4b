"""Peak memory of `homelab-agent serve --transport http` with a real local model.

Starts the server (a temporary config: the model given, CPU only, the Kanboard MCP server on its
built-in demo board, a fresh prefix-state directory), asks `--questions` Kanboard questions over
`/v1/chat/completions` one after another, and samples the RSS of the server and its children (the
MCP server) every 0.2 s. Prints the peak, the model file's size, each answer's seconds and the
prefix-state directory's size on disk at the end.

    .venv/bin/python benchmarks/serve_memory.py --model PATH.gguf --threads 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.helpers import free_port, tree_rss  # noqa: E402 (run as a script: after the sys.path line)

QUESTIONS = (
    "What is overdue in the Homelab project?",
    "What is Alice Chen working on?",
    "What is in progress in Homelab?",
    "When is the k3s upgrade due?",
)
CONFIG = """\
[models.large]
source = "{model}"
n_ctx = 8192
n_gpu_layers = 0
n_threads = {threads}

[prefix_cache]
dir = "{states}"

[agent]
model = "large"

[serve]
port = {port}

[logging]
level = "warning"

[mcpServers.kanboard]
command = "{kanboard}"
args = []
env = {{ KANBOARD_URL = "" }}
"""


def _wait_ready(client: httpx.Client, url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until /healthz answers 200; the server's own output if it exits or never gets there."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if client.get(f"{url}/healthz").status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"serve was not ready after 300 s:\n{log.read_text()[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="GGUF file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="serve-memory-") as tmp:
        port, states = free_port(), Path(tmp) / "prefix-states"
        config = Path(tmp) / "homelab-agent.toml"
        config.write_text(
            CONFIG.format(
                model=args.model.expanduser().resolve(),
                threads=args.threads,
                states=states,
                port=port,
                kanboard=bin_dir / "homelab-agent-kanboard",
            )
        )
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [str(bin_dir / "homelab-agent"), "--config", str(config), "serve", "--transport", "http"],
            cwd=ROOT,
            env={**os.environ, "KANBOARD_URL": ""},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc, peak, done = psutil.Process(server.pid), [0], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss(proc))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=600) as client:
                _wait_ready(client, url, server, Path(tmp) / "serve.log")
                for question in QUESTIONS[: args.questions]:
                    started = time.perf_counter()
                    response = client.post(
                        f"{url}/v1/chat/completions",
                        json={"model": "homelab-agent", "messages": [{"role": "user", "content": question}]},
                    )
                    response.raise_for_status()
                    answer = response.json()["choices"][0]["message"]["content"]
                    print(f"{time.perf_counter() - started:6.1f}s  {question}  ->  {answer[:80]!r}")
        finally:
            done.set()
            sampler.join()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
        on_disk = sum(f.stat().st_size for f in states.rglob("*") if f.is_file()) if states.exists() else 0
        print(f"model file: {args.model.stat().st_size / 2**20:.0f} MiB")
        print(f"peak RSS of serve (process + MCP children): {peak[0] / 2**20:.0f} MiB")
        print(f"prefix states on disk: {on_disk / 2**20:.0f} MiB")
        shutil.rmtree(states, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
