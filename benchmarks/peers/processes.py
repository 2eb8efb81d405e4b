"""The servers a peer run needs, as subprocesses: a demo board over HTTP, and upstream llama-server.

`serve_board` serves a board seed as a Kanboard JSON-RPC endpoint (`homelab-agent-kanboard demo
--seed`), so every stack, ours and the peers', reads the same board over real HTTP. `llama_server`
starts llama.cpp's own server on one GGUF. Both wait until the server answers and stop it after.
This module does not ask questions or score answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.helpers import free_port

__all__ = ["BoardServer", "LlamaServer", "llama_server", "which"]


@dataclass(frozen=True)
class LlamaServer:
    """A running llama-server."""

    base_url: str  # the OpenAI API root, http://127.0.0.1:PORT/v1
    command: tuple[str, ...]
    version: str  # what `llama-server --version` prints
    log: Path


def _wait(proc: subprocess.Popen[bytes], ready: Any, what: str, log: Path, timeout_s: float) -> None:
    """Poll `ready()` until it is true; fail with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{what} did not come up in {timeout_s:.0f}s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class BoardServer:
    """A board seed served as a demo Kanboard on a loopback port (`homelab-agent-kanboard demo --seed`).

    Each start serves a fresh board from the seed (dates relative to now); `restart` does that
    again on the same port, so clients that hold the URL carry on.
    """

    def __init__(self, seed: dict[str, Any], logs: Path, name: str = "board") -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/jsonrpc.php"  # the JSON-RPC endpoint
        self.log = logs / f"board-{self.port}.log"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(seed, f)
        self._seed = Path(f.name)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Serve a fresh board; return once it answers."""
        command = [sys.executable, "-m", "tools.kanboard", "demo", "--port", str(self.port)]
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                [*command, "--seed", str(self._seed)], stdout=out, stderr=subprocess.STDOUT
            )
        self._proc = proc
        # the demo board answers a GET without credentials with 401: it is up
        _wait(proc, lambda: httpx.get(self.url, timeout=2).status_code == 401, "the demo board", self.log, 60)

    def restart(self) -> None:
        """Throw the board away and serve a fresh one from the seed."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None

    def __enter__(self) -> BoardServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._seed.unlink(missing_ok=True)


@contextmanager
def llama_server(
    binary: Path, model: Path, threads: int, logs: Path, extra: Sequence[str] = ()
) -> Iterator[LlamaServer]:
    """llama-server on `model` with `--jinja` tool calling and prompt caching, `threads` threads.

    Everything else is llama-server's default (context: the model's trained length; slots, prompt
    cache in RAM), as a user who starts it with these flags gets.
    """
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = logs / f"llama-server-{port}.log"
    command = (
        str(binary),
        "--model", str(model),
        "--jinja",
        "--cache-prompt",
        "--threads", str(threads),
        "--threads-batch", str(threads),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--no-webui",
        *extra,
    )  # fmt: skip
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    env = {**os.environ, "LLAMA_LOG_COLORS": "off"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(
            proc, lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, "llama-server", log, 300
        )
        yield LlamaServer(f"{base}/v1", command, " ".join((version.stdout + version.stderr).split()), log)
    finally:
        _stop(proc)


def which(name: str) -> str:
    """The path of executable `name` next to this Python (the venv's bin), else on PATH."""
    here = Path(sys.executable).with_name(name)
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (run benchmarks/peers/setup.sh)")
    return found
