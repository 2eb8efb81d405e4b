"""Replays every recorded exchange with a real Kanboard 1.2.53 against the demo board.

The demo board is also the fake the other tests use, so this pins both: same HTTP status, same
error objects, same result types (false vs null vs []), same key sets, string-keyed maps, and, for
data that does not depend on the clock, the same counts. Writes are replayed in order on one fresh
board, so later samples see the tasks, comments and subtasks earlier ones created.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.http_servers import serve_app
from tools.kanboard.demo import DEMO_TOKEN, DemoBoard, create_app, load_seed

_TOTAL = re.compile(r"\.\.\. \((\d+) items total\)")
_CREDENTIALS = {
    "app (jsonrpc:<token>)": ("jsonrpc", DEMO_TOKEN),
    "user (admin)": ("admin", "admin"),
    "user (bob)": ("bob", "bob"),
    "user (jsonrpc)": ("jsonrpc", "wrong-token"),
    "user (erin)": ("erin", "wrong-password"),
    "user (nobody)": ("nobody", "nobody"),
}


def samples_path() -> Path:
    """api-samples.json: $HOMELAB_AGENT_SHARED, else the shared/ directory beside the repository."""
    shared = os.environ.get("HOMELAB_AGENT_SHARED")
    base = Path(shared) if shared else Path(__file__).resolve().parents[3] / ".." / "shared"
    return base / "kanboard" / "api-samples.json"


def load_samples() -> list[dict[str, Any]]:
    path = samples_path()
    assert path.is_file(), (
        f"the recorded Kanboard samples are missing: {path} does not exist. "
        "Set HOMELAB_AGENT_SHARED to the directory that holds kanboard/api-samples.json."
    )
    samples: list[dict[str, Any]] = json.loads(path.read_text())["samples"]
    return samples


def _clock_dependent(sample: dict[str, Any]) -> bool:
    return "Overdue" in (sample.get("method") or "") or "due:" in json.dumps(sample.get("request"))


def assert_same_shape(expected: Any, actual: Any, where: str, *, counts: bool) -> None:
    """`actual` has the shape of `expected`: types, key sets, string-keyed maps, list counts."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r:.80}"
        if expected and all(key.isdigit() for key in expected):
            assert actual == expected, f"{where}: string-keyed map differs"
            return
        assert set(actual) == set(expected), f"{where}: keys differ: {set(actual) ^ set(expected)}"
        for key, value in expected.items():
            assert_same_shape(value, actual[key], f"{where}.{key}", counts=counts)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r:.80}"
        items = [item for item in expected if not (isinstance(item, str) and _TOTAL.fullmatch(item))]
        totals = [
            int(m.group(1)) for item in expected if isinstance(item, str) and (m := _TOTAL.fullmatch(item))
        ]
        if counts:
            assert len(actual) == (totals[0] if totals else len(items)), f"{where}: count differs"
        elif items:
            assert actual, f"{where}: expected items, got []"
        for index, (want, got) in enumerate(zip(items, actual, strict=False)):
            assert_same_shape(want, got, f"{where}[{index}]", counts=counts)
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
    assert_same_shape(want, got, name, counts=not _clock_dependent(sample))


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
    async with asgi_client(DemoBoard(load_seed())) as (client, url):
        for sample in load_samples():
            check(sample, await client.send(build_request(sample, url)))


async def test_demo_board_over_real_http_answers_every_sample_like_kanboard() -> None:
    with loopback_server(DemoBoard(load_seed())) as url:
        async with httpx.AsyncClient() as client:
            for sample in load_samples():
                check(sample, await client.send(build_request(sample, url)))


def test_a_missing_samples_file_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOMELAB_AGENT_SHARED", str(tmp_path))
    with pytest.raises(AssertionError, match="samples are missing"):
        load_samples()
