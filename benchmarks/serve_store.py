"""What the store costs a single-replica `serve`: one conversation saved, read back and a pending
approval taken, per question, in memory and in the default SQLite file.

    .venv/bin/python benchmarks/serve_store.py --rounds 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.serve.store import SQLiteRunStore


async def measure(rounds: int, turn_bytes: int) -> None:
    value = json.dumps({"owner": "x", "turns": ["x" * turn_bytes] * 6})
    with tempfile.TemporaryDirectory() as tmp:
        for name, store in (
            ("memory", SQLiteRunStore(":memory:")),
            ("file", SQLiteRunStore(f"{tmp}/s.sqlite3")),
        ):
            started = time.perf_counter()
            for i in range(rounds):
                await store.put("conversation", f"k{i}", value, 3600)
                await store.get("conversation", f"k{i}")
                await store.take("pending", f"p{i}")
            ms = (time.perf_counter() - started) / rounds * 1e3
            print(f"{name:6} put + get + take, a {len(value)}-byte conversation: {ms:.3f} ms per question")
            await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--turn-bytes", type=int, default=2000)
    args = parser.parse_args()
    anyio.run(measure, args.rounds, args.turn_bytes)


if __name__ == "__main__":
    main()
