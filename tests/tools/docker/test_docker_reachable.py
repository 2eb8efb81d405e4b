"""A Docker server whose engine is not there lists no tools, and says why; the check is cached."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tools.docker import DockerSettings, build_server
from tools.docker.reachable import Reachability
from tools.docker.server import UNREACHABLE

MISSING = DockerSettings(host="unix:///nonexistent/docker.sock")
PROXY = DockerSettings(host="tcp://docker-proxy:2375")


async def test_a_server_with_no_engine_lists_no_tools_and_the_error_says_why() -> None:
    async with Client(build_server(MISSING)) as client:
        with pytest.raises(MCPError) as raised:
            await client.list_tools()
    assert raised.value.code == UNREACHABLE
    assert raised.value.message.startswith("Docker is not reachable: No Docker socket at /nonexistent")


async def test_a_server_whose_engine_answers_lists_its_four_tools() -> None:
    engine = httpx.MockTransport(lambda request: httpx.Response(200, text="OK"))
    async with Client(build_server(PROXY, transport=engine)) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) == 4


async def test_an_engine_that_refuses_the_ping_still_counts_as_there() -> None:
    proxy = httpx.MockTransport(lambda request: httpx.Response(403, text="Forbidden"))
    assert await Reachability(PROXY, proxy).problem() is None


async def test_the_check_is_kept_for_its_ttl_and_made_again_after_it() -> None:
    pings: list[str] = []
    up = [False]

    def engine(request: httpx.Request) -> httpx.Response:
        pings.append(request.url.path)
        if not up[0]:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(200, text="OK")

    now = [100.0]
    check = Reachability(
        PROXY.model_copy(update={"reachable_ttl_s": 15.0}), httpx.MockTransport(engine), lambda: now[0]
    )
    first = await check.problem()
    assert first is not None and "docker-proxy:2375" in first
    up[0] = True
    now[0] += 10
    assert await check.problem() == first and pings == ["/_ping"]  # within the TTL: not asked again
    now[0] += 10
    assert await check.problem() is None and pings == ["/_ping", "/_ping"]
