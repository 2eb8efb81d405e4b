"""Prefix-state files: a sound one comes back, a bad one is ignored with a warning and deleted,
the directory stays under its bound, and a half-written file is never seen."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from agent.models.prefix_states import MAGIC, PrefixStates, file_identity

KEY = {"model": "1234:abcd", "template": "t1", "runtime": "llama-cpp-python 0.3.36", "kv": "k1 v1"}
TOKENS = list(range(100, 300))
STATE = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture
def states(tmp_path: Path) -> PrefixStates:
    return PrefixStates(tmp_path / "states", 1024**2)


def _ignored(logs: list[dict[str, object]]) -> list[object]:
    return [entry["reason"] for entry in logs if entry["event"] == "prefix_state.ignored"]


def test_a_saved_state_loads_back_for_the_same_key_and_tokens(states: PrefixStates) -> None:
    path = states.save(KEY, TOKENS, STATE)
    assert path is not None and path.is_file()
    loaded = states.load(KEY, TOKENS)
    assert loaded is not None and bytes(loaded) == STATE
    assert states.has(KEY, TOKENS)


def test_another_key_or_other_tokens_find_no_file(states: PrefixStates) -> None:
    states.save(KEY, TOKENS, STATE)
    assert states.load({**KEY, "template": "t2"}, TOKENS) is None
    assert states.load(KEY, [*TOKENS, 7]) is None
    assert states.load(KEY, TOKENS[:-1]) is None


def test_a_truncated_file_is_ignored_with_a_warning_and_deleted(states: PrefixStates) -> None:
    path = states.save(KEY, TOKENS, STATE)
    assert path is not None
    path.write_bytes(path.read_bytes()[:-100])
    with capture_logs() as logs:
        assert states.load(KEY, TOKENS) is None
    assert _ignored(logs) == ["truncated"]
    assert not path.exists()


def test_a_corrupt_state_is_caught_by_its_checksum(states: PrefixStates) -> None:
    path = states.save(KEY, TOKENS, STATE)
    assert path is not None
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with capture_logs() as logs:
        assert states.load(KEY, TOKENS) is None
    assert _ignored(logs) == ["corrupt (checksum mismatch)"]
    assert not path.exists()


def test_a_file_that_is_not_a_state_file_is_ignored(states: PrefixStates) -> None:
    path = states.path(KEY, TOKENS)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF and then some")
    with capture_logs() as logs:
        assert states.load(KEY, TOKENS) is None
    assert "not a homelab-agent KV state file" in str(_ignored(logs)[0])


def test_a_foreign_file_under_the_expected_name_is_ignored(states: PrefixStates) -> None:
    """A file made for another model (copied or renamed into place) is not trusted by its name."""
    other = {**KEY, "model": "9999:ffff"}
    made = states.save(other, TOKENS, STATE)
    assert made is not None
    shutil.copy(made, states.path(KEY, TOKENS))
    with capture_logs() as logs:
        assert states.load(KEY, TOKENS) is None
    assert _ignored(logs) == ["made for another model, template or runtime"]


def test_a_file_for_other_tokens_under_the_expected_name_is_ignored(states: PrefixStates) -> None:
    made = states.save(KEY, [1, 2, 3], STATE)
    assert made is not None
    shutil.copy(made, states.path(KEY, TOKENS))
    with capture_logs() as logs:
        assert states.load(KEY, TOKENS) is None
    assert _ignored(logs) == ["holds other tokens"]


def test_a_bad_file_is_replaced_by_the_next_save(states: PrefixStates) -> None:
    path = states.path(KEY, TOKENS)
    path.parent.mkdir(parents=True)
    path.write_bytes(MAGIC + b"\x05\x00\x00\x00{bad}")
    assert states.load(KEY, TOKENS) is None
    states.save(KEY, TOKENS, STATE)
    loaded = states.load(KEY, TOKENS)
    assert loaded is not None and bytes(loaded) == STATE


def test_the_directory_is_kept_under_its_bound_least_recently_used_first(tmp_path: Path) -> None:
    states = PrefixStates(tmp_path, 3 * len(STATE) + 3 * (4 * len(TOKENS) + 400))
    first = states.save(KEY, [1, *TOKENS], STATE)
    second = states.save(KEY, [2, *TOKENS], STATE)
    assert first is not None and second is not None
    # years back: the suite also runs with the clock moved (faketime), which the file system's own
    # timestamps of the files saved next do not follow
    past = time.time() - 3 * 365 * 86400
    os.utime(first, (past, past))
    os.utime(second, (past - 50, past - 50))
    assert states.load(KEY, [1, *TOKENS]) is not None  # used now: the most recent
    states.save(KEY, [3, *TOKENS], STATE)
    states.save(KEY, [4, *TOKENS], STATE)
    assert states.total_bytes() <= states.max_bytes
    assert not second.exists()  # the least recently used went first
    assert first.exists() and states.has(KEY, [4, *TOKENS])


def test_a_state_larger_than_the_bound_is_not_saved(tmp_path: Path) -> None:
    states = PrefixStates(tmp_path, len(STATE) // 2)
    assert states.save(KEY, TOKENS, STATE) is None
    assert list(tmp_path.iterdir()) == []


def test_a_bound_of_zero_turns_the_files_off(tmp_path: Path) -> None:
    states = PrefixStates(tmp_path, 0)
    assert states.save(KEY, TOKENS, STATE) is None
    assert states.load(KEY, TOKENS) is None and not states.has(KEY, TOKENS)


def test_a_write_leaves_no_temporary_file_and_an_old_one_is_swept(states: PrefixStates) -> None:
    states.save(KEY, TOKENS, STATE)
    assert [p.name for p in states.directory.iterdir() if p.name.startswith(".tmp-")] == []
    left = states.directory / ".tmp-dead.kvstate"
    left.write_bytes(b"half a state")
    old = time.time() - 7200
    os.utime(left, (old, old))
    states.save(KEY, [*TOKENS, 1], STATE)
    assert not left.exists()


def test_a_model_file_identity_changes_with_its_content_and_not_with_a_copy(tmp_path: Path) -> None:
    a = tmp_path / "a.gguf"
    a.write_bytes(b"GGUF" + bytes(3 * 1024**2))
    copy = tmp_path / "copy.gguf"
    shutil.copy(a, copy)
    changed = tmp_path / "changed.gguf"
    changed.write_bytes(b"GGUF" + bytes(3 * 1024**2 - 1) + b"\x01")
    assert file_identity(a) == file_identity(copy)
    assert file_identity(a) != file_identity(changed)
