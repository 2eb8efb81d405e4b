"""The JSON-RPC client against httpx.MockTransport: quirks, errors, retries, and no leaked secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.tools.kanboard.conftest import TOKEN
from tools.kanboard import (
    KanboardAuthError,
    KanboardClient,
    KanboardForbiddenError,
    KanboardRejectedError,
    KanboardRPCError,
    KanboardSettings,
    KanboardUnreachableError,
)

URL = "http://kanboard.lan"
Handler = Callable[[httpx.Request], httpx.Response]


def settings(**overrides: Any) -> KanboardSettings:
    return KanboardSettings(url=URL, secret=SecretStr(TOKEN), timeout=1.0).model_copy(update=overrides)


def answering(result: Any) -> Handler:
    """A Kanboard that answers every call with `result`, keeping the request id."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "result": result, "id": body["id"]})

    return handle


def client(handler: Handler, **overrides: Any) -> KanboardClient:
    return KanboardClient(settings(**overrides), httpx.MockTransport(handler))


async def test_client_posts_json_rpc_with_basic_auth_to_the_jsonrpc_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answering("1.2.53")(request)

    async with client(handle) as kb:
        assert await kb.version() == "1.2.53"
    request = seen[0]
    assert str(request.url) == f"{URL}/jsonrpc.php"
    assert request.headers["authorization"] == httpx.BasicAuth("jsonrpc", TOKEN)._auth_header
    assert json.loads(request.content) == {"jsonrpc": "2.0", "method": "getVersion", "id": 1}


async def test_null_and_false_mean_not_found() -> None:
    async with client(answering(None)) as kb:
        assert await kb.task(99999) is None
    async with client(answering(False)) as kb:
        assert await kb.task(99999) is None


async def test_string_keyed_maps_become_int_keyed_and_empty_arrays_empty_dicts() -> None:
    async with client(answering({"2": "Alice Chen", "1": "Site Admin"})) as kb:
        assert await kb.project_users(1) == {2: "Alice Chen", 1: "Site Admin"}
    async with client(answering([])) as kb:
        assert await kb.task_tags(1) == {}


async def test_zero_dates_become_none_and_timestamps_aware_datetimes() -> None:
    task = {"id": 1, "title": "t", "date_due": 0, "date_started": 1795107600, "date_completed": None}
    async with client(answering(task)) as kb:
        found = await kb.task(1)
    assert found is not None and found.date_due is None and found.date_completed is None
    assert found.date_started is not None and found.date_started.isoformat() == "2026-11-19T17:00:00+00:00"


async def test_http_401_says_to_check_the_token_without_showing_it() -> None:
    unauthorized = {"jsonrpc": "2.0", "error": {"code": 401, "message": "Unauthorized"}, "id": None}
    async with client(lambda request: httpx.Response(401, json=unauthorized)) as kb:
        with pytest.raises(KanboardAuthError, match="KANBOARD_TOKEN") as caught:
            await kb.version()
    assert TOKEN not in str(caught.value)


async def test_http_403_is_forbidden() -> None:
    forbidden = {"jsonrpc": "2.0", "error": {"code": 403, "message": "Forbidden"}, "id": None}
    async with client(lambda request: httpx.Response(403, json=forbidden)) as kb:
        with pytest.raises(KanboardForbiddenError, match="getMe"):
            await kb.me()


async def test_json_rpc_errors_carry_code_and_data() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        error = {"code": -32602, "message": "Invalid params", "data": "Missing argument: task_id"}
        return httpx.Response(200, json={"jsonrpc": "2.0", "error": error, "id": 1})

    async with client(handle) as kb:
        with pytest.raises(KanboardRPCError, match="Missing argument: task_id") as caught:
            await kb.task(1)
    assert caught.value.code == -32602


async def test_a_write_answered_false_is_rejected_with_a_hint() -> None:
    async with client(answering(False)) as kb:
        with pytest.raises(KanboardRejectedError, match="member of the project"):
            await kb.create_task("x", 1, owner_id=4)


async def test_an_html_page_instead_of_json_says_the_url_is_wrong() -> None:
    async with client(lambda request: httpx.Response(200, text="<html>login</html>")) as kb:
        with pytest.raises(KanboardUnreachableError, match="KANBOARD_URL"):
            await kb.version()


async def test_connect_errors_are_retried_once_then_reported_with_the_url() -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("Connection refused", request=request)

    async with client(refuse) as kb:
        with pytest.raises(KanboardUnreachableError, match=r"cannot reach Kanboard at http://kanboard\.lan"):
            await kb.version()
    assert len(attempts) == 2


async def test_a_transient_connect_error_is_retried_and_succeeds() -> None:
    attempts: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.ConnectError("reset", request=request)
        return answering("UTC")(request)

    async with client(flaky) as kb:
        assert await kb.timezone() == "UTC"
    assert len(attempts) == 2


async def test_read_timeouts_are_retried_for_reads_but_not_for_writes() -> None:
    attempts: list[str] = []

    def slow(request: httpx.Request) -> httpx.Response:
        attempts.append(json.loads(request.content)["method"])
        raise httpx.ReadTimeout("timed out", request=request)

    async with client(slow) as kb:
        with pytest.raises(KanboardUnreachableError):
            await kb.task(1)
        with pytest.raises(KanboardUnreachableError):
            await kb.close_task(1)
    assert attempts == ["getTask", "getTask", "closeTask"]


async def test_non_admin_users_fall_back_to_their_own_projects() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["method"] == "getAllProjects":
            return httpx.Response(
                403, json={"jsonrpc": "2.0", "error": {"code": 403, "message": "Forbidden"}}
            )
        return answering([{"id": 1, "name": "Homelab"}])(request)

    async with client(handle, username="bob") as kb:
        assert [p.name for p in await kb.projects()] == ["Homelab"]


async def test_secrets_never_show_in_reprs_or_error_messages() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    configured = settings()
    kb = KanboardClient(configured, httpx.MockTransport(refuse))
    assert TOKEN not in repr(configured) and TOKEN not in repr(kb)
    with pytest.raises(KanboardUnreachableError) as caught:
        await kb.version()
    await kb.aclose()
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None


def test_settings_refuse_credentials_in_the_url_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="must not contain credentials") as caught:
        KanboardSettings(url=f"http://admin:{TOKEN}@kanboard.lan", secret=SecretStr(TOKEN))
    assert TOKEN not in str(caught.value)
