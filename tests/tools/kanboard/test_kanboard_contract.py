"""Replays every recorded exchange with a real Kanboard 1.2.53 against the demo board.

The demo board is also the fake the other tests use, so this pins both: same HTTP status, same
error objects, same result types (false vs null vs []), same key sets, string-keyed maps, and the
same counts. The samples (`data/api-samples.json`, recorded on the day in their `generated_at`)
carry absolute dates such as `due:<2026-11-21`, so the board is built with its clock stopped at
that moment: the replay means the same on any day. Writes are replayed in order on one fresh
board, so later samples see the tasks, comments and subtasks earlier ones created.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.http_servers import serve_app
from tools.kanboard_demo import DEMO_TOKEN, DemoBoard, create_app, load_seed

_TOTAL = re.compile(r"\.\.\. \((\d+) items total\)")
_CREDENTIALS = {
    "app (jsonrpc:<token>)": ("jsonrpc", DEMO_TOKEN),
    "user (admin)": ("admin", "admin"),
    "user (bob)": ("bob", "bob"),
    "user (jsonrpc)": ("jsonrpc", "wrong-token"),
    "user (erin)": ("erin", "wrong-password"),
    "user (nobody)": ("nobody", "nobody"),
}


SAMPLES = Path(__file__).parent / "data" / "api-samples.json"


def load_recording(path: Path = SAMPLES) -> dict[str, Any]:
    """The recording: `samples` and `generated_at`, read from inside the repository."""
    assert path.is_file(), f"the recorded Kanboard samples are missing: {path} does not exist"
    recording: dict[str, Any] = json.loads(path.read_text())
    return recording


def load_samples(path: Path = SAMPLES) -> list[dict[str, Any]]:
    """Every recorded exchange, in the order it was recorded."""
    samples: list[dict[str, Any]] = load_recording(path)["samples"]
    return samples


def recorded_board() -> DemoBoard:
    """A fresh demo board whose clock stands still at the moment the samples were recorded."""
    recorded_at = datetime.fromisoformat(load_recording()["generated_at"]).timestamp()
    return DemoBoard(load_seed(), clock=lambda: recorded_at)


def assert_same_shape(expected: Any, actual: Any, where: str) -> None:
    """`actual` has the shape of `expected`: types, key sets, string-keyed maps, list counts."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r:.80}"
        if expected and all(key.isdigit() for key in expected):
            assert actual == expected, f"{where}: string-keyed map differs"
            return
        assert set(actual) == set(expected), f"{where}: keys differ: {set(actual) ^ set(expected)}"
        for key, value in expected.items():
            assert_same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r:.80}"
        items = [item for item in expected if not (isinstance(item, str) and _TOTAL.fullmatch(item))]
        totals = [
            int(m.group(1)) for item in expected if isinstance(item, str) and (m := _TOTAL.fullmatch(item))
        ]
        assert len(actual) == (totals[0] if totals else len(items)), f"{where}: count differs"
        for index, (want, got) in enumerate(zip(items, actual, strict=False)):
            assert_same_shape(want, got, f"{where}[{index}]")
    elif expected is not None and actual is not None:
        assert _kind(actual) == _kind(expected), f"{where}: expected {_kind(expected)}, got {actual!r:.80}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


def check(sample: dict[str, Any], response: httpx.Response) -> None:
    """One replayed exchange answered like the recording."""
    name = sample["name"]
    assert response.status_code == sample["http_status"], name
    if "www_authenticate" in sample:
        assert response.headers.get("www-authenticate") == sample["www_authenticate"], name
    expected = sample["response"]
    if expected == "":
        assert response.content == b"", name
        return
    body = response.json()
    if isinstance(expected, list) or "error" in expected:
        assert body == expected, name  # batches and errors are small and exact
        return
    assert set(body) == set(expected), name
    assert body["id"] == expected["id"], name
    want, got = expected["result"], body["result"]
    if not isinstance(want, dict | list):
        assert got == want, f"{name}: result {got!r} != {want!r}"
        return
    assert_same_shape(want, got, name)


def build_request(sample: dict[str, Any], url: str) -> httpx.Request:
    """The recorded request, with the demo board's credentials."""
    credentials = _CREDENTIALS.get(sample["auth"])
    headers = {"Content-Type": "application/json"}
    if credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    method = sample.get("http_method", "POST")
    if "raw_request_body" in sample:
        body = (sample["raw_request_body"] or "").encode()
    else:
        body = json.dumps(sample["request"]).encode()
    return httpx.Request(method, url, headers=headers, content=body if method == "POST" else None)


@asynccontextmanager
async def asgi_client(board: DemoBoard) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(board))) as client:
        yield client, "http://demo/jsonrpc.php"


@contextmanager
def loopback_server(board: DemoBoard) -> Iterator[str]:
    """The demo app served by uvicorn on a free loopback port, as `homelab-agent-kanboard demo` does."""
    with serve_app(create_app(board)) as base:
        yield f"{base}/jsonrpc.php"


def test_the_recorded_samples_are_there_and_cover_reads_writes_and_errors() -> None:
    samples = load_samples()
    assert len(samples) == 92
    methods = {sample["method"] for sample in samples}
    assert {"getBoard", "searchTasks", "createTask", "moveTaskPosition", "createComment"} <= methods


async def test_demo_board_in_process_answers_every_sample_like_kanboard() -> None:
    async with asgi_client(recorded_board()) as (client, url):
        for sample in load_samples():
            check(sample, await client.send(build_request(sample, url)))


async def test_demo_board_over_real_http_answers_every_sample_like_kanboard() -> None:
    with loopback_server(recorded_board()) as url:
        async with httpx.AsyncClient() as client:
            for sample in load_samples():
                check(sample, await client.send(build_request(sample, url)))


def test_a_missing_samples_file_fails_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="samples are missing"):
        load_samples(tmp_path / "api-samples.json")


def test_the_replay_does_not_depend_on_todays_date() -> None:
    recorded = datetime.fromisoformat(load_recording()["generated_at"])
    assert recorded_board().clock() == recorded.timestamp()
    searches = [
        s for s in load_samples() if "due:<" + recorded.date().isoformat() in json.dumps(s.get("request"))
    ]
    assert searches, "the samples hold a search with the recording day's date"
