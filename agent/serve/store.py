"""Where `serve` keeps what must outlive one request: conversations and runs waiting for approval.

`RunStore` is a small key-value protocol (a namespace, a key, a JSON string, a time to live) with
one atomic operation, `take`: read and delete, so a pending approval is used once even when two
replicas get the same answer; and `secret`, a random key made once and shared by every process on
the store (the MCP SDK seals its 2026-07-28 `requestState` with it, so a retry may reach another
replica, or the same one after a restart). Two implementations:

- `SQLiteRunStore` (the default; stdlib `sqlite3`, one file, nothing to install): conversations
  and pending approvals survive a restart of `serve`. `":memory:"` keeps them in the process only.
- `RedisRunStore` (`serve.store = "redis://127.0.0.1:6379/0"`, the optional `redis` extra): one
  store for several replicas behind a load balancer.

What the values mean is the callers' business (`agent.serve.sessions`, `agent.serve.pending`).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import structlog

from agent.exceptions import ConfigError

__all__ = ["RedisRunStore", "RunStore", "SQLiteRunStore", "open_store"]

log = structlog.get_logger(__name__)


class RunStore(Protocol):
    """Values by (namespace, key), each with a time to live; `take` reads and deletes at once."""

    async def get(self, space: str, key: str) -> str | None:
        """The value, or None when there is none (or it expired)."""
        ...

    async def put(self, space: str, key: str, value: str, ttl_s: float) -> None:
        """Keep `value` for `ttl_s` seconds (replacing any value under the key)."""
        ...

    async def take(self, space: str, key: str) -> str | None:
        """The value, deleted in the same step: two callers never both get it."""
        ...

    async def delete(self, space: str, key: str) -> None:
        """Forget the key (nothing happens when there is none)."""
        ...

    def secret(self, name: str) -> bytes:
        """A random 32-byte key under `name`, made on first use, the same for every process here."""
        ...

    async def aclose(self) -> None:
        """Release the connection."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    space TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (space, key)
)
"""


class SQLiteRunStore:
    """A `RunStore` in one SQLite file (or `":memory:"`), safe for one process at a time per file."""

    def __init__(self, path: str | Path = ":memory:", clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            if self.path != ":memory:":  # survives a crash of serve; a power cut may lose the last writes
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the serve store {self.path}: {exc} (serve.store)") from None
        self._purge()

    def _purge(self) -> None:
        self._db.execute("DELETE FROM kv WHERE expires_at <= ?", (self._clock(),))

    async def get(self, space: str, key: str) -> str | None:
        """The value, or None."""
        row = self._db.execute(
            "SELECT value FROM kv WHERE space = ? AND key = ? AND expires_at > ?", (space, key, self._clock())
        ).fetchone()
        return None if row is None else str(row[0])

    async def put(self, space: str, key: str, value: str, ttl_s: float) -> None:
        """Keep `value` for `ttl_s` seconds."""
        self._db.execute(
            "INSERT OR REPLACE INTO kv (space, key, value, expires_at) VALUES (?, ?, ?, ?)",
            (space, key, value, self._clock() + ttl_s),
        )

    async def take(self, space: str, key: str) -> str | None:
        """The value, deleted in the same statement."""
        row = self._db.execute(
            "DELETE FROM kv WHERE space = ? AND key = ? RETURNING value, expires_at", (space, key)
        ).fetchone()
        if row is None or float(row[1]) <= self._clock():
            return None
        return str(row[0])

    async def delete(self, space: str, key: str) -> None:
        """Forget the key."""
        self._db.execute("DELETE FROM kv WHERE space = ? AND key = ?", (space, key))

    def secret(self, name: str) -> bytes:
        """The key `name`, made on first use (never expires)."""
        made = secrets.token_hex(32)
        self._db.execute(
            "INSERT OR IGNORE INTO kv (space, key, value, expires_at) VALUES ('secret', ?, ?, 1e300)",
            (name, made),
        )
        row = self._db.execute("SELECT value FROM kv WHERE space = 'secret' AND key = ?", (name,)).fetchone()
        return bytes.fromhex(str(row[0]))

    async def aclose(self) -> None:
        """Close the database."""
        self._db.close()


class RedisRunStore:
    """A `RunStore` in Redis, shared by replicas (keys `homelab-agent:<space>:<key>`, with expiry)."""

    def __init__(self, url: str, prefix: str = "homelab-agent") -> None:
        try:
            import redis as sync_redis  # an optional extra
            import redis.asyncio as redis
        except ImportError:
            raise ConfigError(
                f"serve.store = {url!r} needs the redis client: pip install 'homelab-agent[redis]'"
            ) from None
        self.url = url
        self._prefix = prefix
        self._redis: Any = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self._sync: Any = sync_redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)

    def _key(self, space: str, key: str) -> str:
        return f"{self._prefix}:{space}:{key}"

    async def get(self, space: str, key: str) -> str | None:
        """The value, or None."""
        value = await self._redis.get(self._key(space, key))
        return None if value is None else str(value)

    async def put(self, space: str, key: str, value: str, ttl_s: float) -> None:
        """Keep `value` for `ttl_s` seconds."""
        await self._redis.set(self._key(space, key), value, px=max(1, int(ttl_s * 1000)))

    async def take(self, space: str, key: str) -> str | None:
        """The value, deleted in the same command (GETDEL)."""
        value = await self._redis.getdel(self._key(space, key))
        return None if value is None else str(value)

    async def delete(self, space: str, key: str) -> None:
        """Forget the key."""
        await self._redis.delete(self._key(space, key))

    def secret(self, name: str) -> bytes:
        """The key `name`, made on first use by whichever replica comes first (SET NX).

        Raises:
            ConfigError: Redis does not answer.
        """
        key = self._key("secret", name)
        try:
            self._sync.set(key, secrets.token_hex(32), nx=True)
            return bytes.fromhex(str(self._sync.get(key)))
        except Exception as exc:  # redis.exceptions.ConnectionError and kin
            raise ConfigError(f"cannot reach the serve store {self.url}: {exc} (serve.store)") from None

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._redis.aclose()
        self._sync.close()


def open_store(location: str | None) -> RunStore:
    """The store `location` names: None or ":memory:" (this process only), a file path, a redis:// URL.

    Raises:
        ConfigError: the file cannot be opened, or Redis is named without the redis client.
    """
    if location is None or location == ":memory:":
        return SQLiteRunStore(":memory:")
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisRunStore(location)
    path = Path(location.removeprefix("sqlite:")).expanduser()
    log.info("serve.store", kind="sqlite", path=str(path))
    return SQLiteRunStore(path)
