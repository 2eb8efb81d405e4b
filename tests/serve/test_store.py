"""The RunStore: values with a time to live, `take` used once, secrets shared, one file or Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from agent.exceptions import ConfigError
from agent.messages import ToolCall
from agent.serve.pending import NotPendingError, PendingRuns
from agent.serve.store import RunStore, SQLiteRunStore, open_store
from tests.support.http_servers import free_port


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis on a free loopback port, when `redis-server` and the redis client are installed."""
    binary = shutil.which("redis-server")
    if binary is None:  # scripts/setup.sh dev installs it
        reason = "redis-server is not installed (scripts/setup.sh dev, or apt-get install redis-server)"
        pytest.fail(reason, pytrace=False)
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(tmp_path)]
    # the server runs on the real clock: the suite's clock-shifted passes (faketime) test our code,
    # and Redis under a preloaded faketime does not start
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(5)


async def check_store(store: RunStore) -> None:
    await store.put("a", "k", "v", 10)
    assert await store.get("a", "k") == "v"
    assert await store.get("b", "k") is None  # namespaces apart
    assert await store.take("a", "k") == "v"
    assert await store.take("a", "k") is None  # once
    await store.put("a", "short", "v", 0.05)
    await anyio.sleep(0.1)
    assert await store.get("a", "short") is None
    assert store.secret("s") == store.secret("s") and len(store.secret("s")) == 32


async def test_the_sqlite_store_keeps_values_until_they_expire_and_takes_each_once(tmp_path: Path) -> None:
    store = SQLiteRunStore(tmp_path / "s.sqlite3")
    await check_store(store)
    await store.aclose()


async def test_the_sqlite_store_keeps_its_values_and_secrets_across_a_restart(tmp_path: Path) -> None:
    first = SQLiteRunStore(tmp_path / "s.sqlite3")
    await first.put("a", "k", "v", 60)
    key = first.secret("s")
    await first.aclose()
    second = SQLiteRunStore(tmp_path / "s.sqlite3")
    assert await second.get("a", "k") == "v" and second.secret("s") == key
    await second.aclose()


async def test_the_redis_store_behaves_like_the_sqlite_one(redis_url: str) -> None:
    store = open_store(redis_url)
    await check_store(store)
    await store.aclose()


def test_a_store_file_that_cannot_be_opened_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(ConfigError, match="cannot open the serve store"):
        SQLiteRunStore(tmp_path / "dir.sqlite3")


def test_redis_without_its_client_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # as on a machine without the extra: the import of the redis client fails
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigError, match=r"homelab-agent\[redis\]"):
        open_store("redis://127.0.0.1:6379/0")


async def test_a_pending_approval_is_claimed_only_by_its_owner_in_its_conversation_and_once() -> None:
    pending = PendingRuns(SQLiteRunStore(), timeout_s=60)
    parked = await pending.park(owner="alice", conversation="c1", call=ToolCall(name="w"))
    for owner, conversation in (("mallory", "c1"), ("alice", "c2")):
        with pytest.raises(NotPendingError):
            await pending.claim(parked.ref, owner, conversation)
    with pytest.raises(NotPendingError):
        await pending.claim("apv-" + "0" * 32, "alice", "c1")  # never issued
    assert (await pending.claim(parked.ref, "alice", "c1")).call == ToolCall(name="w", id=parked.calls[0].id)
    with pytest.raises(NotPendingError, match="not pending any more"):
        await pending.claim(parked.ref, "alice", "c1")
