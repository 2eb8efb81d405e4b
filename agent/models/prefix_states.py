"""Saved KV states of prompt prefixes, on disk, so that a new process starts warm.

Every question begins with the same system prompt, server instructions and tool list; a model
evaluates them once (seconds to tens of seconds on a CPU) and `PrefixStates` keeps the result, the
KV state of those tokens, in a directory (`[prefix_cache]`). A one-shot `homelab-agent ask`, a
restarted `serve` or a new `chat` loads it in milliseconds instead.

A state is only valid for the model file, chat template, runtime and KV layout it was made with,
and for exactly its tokens: all of them are its `key` and its file name is a digest of key and
tokens, so a change to any of them simply finds no file (the old one ages out). A file holds

    MAGIC (8 bytes) | header length (u32 LE) | header (JSON) | tokens (int32 LE) | state bytes

and its header repeats the key, the token count, the state's size and CRC-32. One that is
truncated, corrupt, of another format or for another key is ignored with a warning and deleted,
and the caller evaluates the prefix again and saves it anew. Writes go to a temporary file renamed
into place, so a reader never sees half a file; the directory is kept under `max_bytes` by
deleting the least recently used files (a load touches its file).

This module only stores bytes; making and restoring a state is the llama.cpp backend's job
(`agent.models.llama.kv_cache`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import structlog

__all__ = ["MAGIC", "PrefixStates", "file_identity"]

log = structlog.get_logger(__name__)

MAGIC = b"HLAKV\x00\x01\n"  # homelab-agent KV state, format 1
SUFFIX = ".kvstate"
STALE_TEMP_S = 3600.0  # a temporary file this old was left by a process that died while writing
_SAMPLE = 1 << 20  # bytes hashed at each end of a model file


def file_identity(path: Path) -> str:
    """A cheap identity of a model file: its size and a digest of its first and last MiB.

    The header and metadata (architecture, tokenizer, quantisation) sit at the start and the last
    tensors at the end, so another file, or the same one re-quantised, gets another identity; a
    copy of the same file keeps it.
    """
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as f:
        digest.update(f.read(_SAMPLE))
        f.seek(max(0, size - _SAMPLE))
        digest.update(f.read(_SAMPLE))
    return f"{size}:{digest.hexdigest()}"


class PrefixStates:
    """A directory of KV states keyed by what they are valid for, bounded, least recently used out."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory.expanduser()
        self.max_bytes = max_bytes

    def path(self, key: Mapping[str, str], tokens: Sequence[int]) -> Path:
        """Where the state of `tokens` under `key` is kept."""
        digest = hashlib.blake2b(json.dumps(dict(key), sort_keys=True).encode(), digest_size=20)
        digest.update(np.asarray(tokens, dtype="<i4").tobytes())
        return self.directory / f"{digest.hexdigest()}{SUFFIX}"

    def has(self, key: Mapping[str, str], tokens: Sequence[int]) -> bool:
        """Whether a file for `tokens` under `key` is there (not whether it is sound)."""
        return self.max_bytes > 0 and self.path(key, tokens).is_file()

    def load(self, key: Mapping[str, str], tokens: Sequence[int]) -> memoryview | None:
        """The saved state of `tokens` under `key` (writable, for ctypes), or None; a bad file is
        deleted with a warning."""
        if self.max_bytes <= 0:
            return None
        path = self.path(key, tokens)
        try:
            with path.open("rb") as f:
                data = bytearray(os.fstat(f.fileno()).st_size)
                f.readinto(data)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("prefix_state.unreadable", path=str(path), error=str(exc))
            return None
        state, problem = _parse(data, key, tokens)
        if problem is not None:
            self.discard(path, problem)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used
        return state

    def read_header(self, path: Path) -> tuple[dict[str, str], list[int]]:
        """The key and tokens a file says it holds (unchecked: `load` checks).

        Raises:
            ValueError: not a state file.
        """
        with path.open("rb") as f:
            head = f.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
                raise ValueError(f"{path} is not a homelab-agent KV state file")
            (length,) = struct.unpack_from("<I", head, len(MAGIC))
            header = json.loads(f.read(length))
            tokens = np.frombuffer(f.read(4 * int(header["n_tokens"])), dtype="<i4")
        return dict(header["key"]), [int(t) for t in tokens]

    def discard(self, path: Path, reason: str) -> None:
        """Delete a file that cannot be used, saying why."""
        log.warning("prefix_state.ignored", path=str(path), reason=reason)
        path.unlink(missing_ok=True)

    def save(self, key: Mapping[str, str], tokens: Sequence[int], state: bytes | memoryview) -> Path | None:
        """Write the state of `tokens` atomically, then trim the directory; None when it does not fit."""
        nbytes = state.nbytes if isinstance(state, memoryview) else len(state)
        if self.max_bytes <= 0 or nbytes + 4 * len(tokens) > self.max_bytes:
            return None
        path = self.path(key, tokens)
        header = json.dumps(
            {
                "format": 1,
                "key": dict(key),
                "n_tokens": len(tokens),
                "state_bytes": nbytes,
                "crc32": zlib.crc32(state),
                "saved_at": time.time(),
            },
            sort_keys=True,
        ).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(MAGIC + struct.pack("<I", len(header)) + header)
                    f.write(np.asarray(tokens, dtype="<i4").tobytes())
                    f.write(state)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("prefix_state.not_saved", path=str(path), error=str(exc))
            return None
        self.trim(keep=path)
        return path

    def trim(self, keep: Path | None = None) -> None:
        """Delete the least recently used files until the directory holds at most `max_bytes`."""
        files: list[tuple[float, int, Path]] = []
        now = time.time()
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            if not entry.name.endswith(SUFFIX):
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            if entry.name.startswith(".tmp-"):
                if now - stat.st_mtime > STALE_TEMP_S:
                    Path(entry.path).unlink(missing_ok=True)
                continue
            files.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda f: f[0]):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            log.info("prefix_state.evicted", path=str(path), bytes=size)

    def total_bytes(self) -> int:
        """Bytes the saved states take now."""
        return sum(p.stat().st_size for p in self.directory.glob(f"*{SUFFIX}") if not p.name.startswith("."))


def _parse(data: bytearray, key: Mapping[str, str], tokens: Sequence[int]) -> tuple[memoryview, str | None]:
    """The state in a file's bytes, or why the file cannot be used for `key` and `tokens`."""
    none = memoryview(bytearray())
    if not data.startswith(MAGIC):
        return none, "not a homelab-agent KV state file (or another format version)"
    at = len(MAGIC)
    if len(data) < at + 4:
        return none, "truncated"
    (length,) = struct.unpack_from("<I", data, at)
    at += 4
    try:
        header = json.loads(bytes(data[at : at + length]))
        n_tokens, state_bytes, crc = int(header["n_tokens"]), int(header["state_bytes"]), int(header["crc32"])
        saved_key = header["key"]
    except (ValueError, KeyError, TypeError):
        return none, "unreadable header"
    at += length
    if saved_key != dict(key):
        return none, "made for another model, template or runtime"
    if len(data) != at + 4 * n_tokens + state_bytes:
        return none, "truncated"
    saved_tokens = np.frombuffer(data, dtype="<i4", count=n_tokens, offset=at)
    if n_tokens != len(tokens) or not np.array_equal(saved_tokens, np.asarray(tokens, dtype="<i4")):
        return none, "holds other tokens"
    state = memoryview(data)[at + 4 * n_tokens :]
    if zlib.crc32(state) != crc:
        return none, "corrupt (checksum mismatch)"
    return state, None
