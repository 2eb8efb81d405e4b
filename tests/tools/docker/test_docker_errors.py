"""What the Docker tools say when Docker cannot be reached: one line each, saying what to do."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp.server.mcpserver import MCPServer

from tests.tools.docker.conftest import call
from tools.docker import DockerSettings, build_server

ROOT = Path(__file__).resolve().parents[3]
_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, <linux/capability.h>

# Run by a process that may not open the socket: prints the tool result as JSON on its last line.
_ASK = """
import json, sys, anyio
from mcp import Client
from tools.docker import DockerSettings, build_server

async def main():
    async with Client(build_server(DockerSettings(host=sys.argv[1]))) as client:
        result = await client.call_tool("list_containers", {})
    print(json.dumps({"failed": result.is_error, "text": "\\n".join(b.text for b in result.content)}))

anyio.run(main)
"""


def one_line(answer: str) -> str:
    assert "\n" not in answer.strip(), answer
    return answer


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A directory anyone may enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="hla-sock-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_a_missing_socket_is_one_line_that_names_the_path_and_docker_host() -> None:
    server = build_server(DockerSettings(host="unix:///nonexistent/docker.sock"))
    answer, failed = await call(server, "list_containers")
    assert failed
    assert one_line(answer).endswith(
        "No Docker socket at /nonexistent/docker.sock: is Docker running here? Otherwise set DOCKER_HOST, "
        "e.g. tcp://docker-proxy:2375 for a socket proxy"
    )


async def test_a_socket_nobody_listens_on_says_the_daemon_is_not_running(socket_dir: Path) -> None:
    path = socket_dir / "docker.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # the file stays, nothing listens
    answer, failed = await call(
        build_server(DockerSettings(host=f"unix://{path}")), "container_logs", container="x"
    )
    assert failed
    assert one_line(answer).endswith(
        f"Nothing listens at {path}: is the Docker daemon (or the socket proxy) running?"
    )


async def test_a_closed_tcp_port_says_nothing_listens_there() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer, failed = await call(
        build_server(DockerSettings(host=f"tcp://127.0.0.1:{port}")), "resource_usage"
    )
    assert failed and one_line(answer).endswith(
        f"Nothing listens at 127.0.0.1:{port}: is the Docker daemon (or the socket proxy) running?"
    )


def _without_file_permission_override() -> None:
    """In the child, before exec: drop the capabilities that let root open any file."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _result_without_override(host: str) -> dict[str, object]:
    """The tool result when root asks without the power to ignore file permissions."""
    done = subprocess.run(
        [sys.executable, "-c", _ASK, host],
        preexec_fn=_without_file_permission_override,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def test_a_socket_this_user_may_not_open_is_one_line_about_permissions(socket_dir: Path) -> None:
    path = socket_dir / "docker.sock"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        listening.listen()
        path.chmod(0o000)  # no one may open it, like a root:docker 660 socket for a user outside the group
        if os.geteuid() == 0:  # root opens any file unless it gives up that power: ask from a child that did
            result = _result_without_override(f"unix://{path}")
            answer, failed = str(result["text"]), bool(result["failed"])
        else:
            answer, failed = await call(
                build_server(DockerSettings(host=f"unix://{path}")), "list_containers"
            )
    assert failed
    assert one_line(answer).endswith(
        f"Permission denied opening the Docker socket {path}: run as a member of the docker group, "
        "or set DOCKER_HOST to a read-only socket proxy (tcp://docker-proxy:2375)"
    )


def _server(handler: httpx.MockTransport) -> MCPServer:
    return build_server(DockerSettings(host="tcp://docker-proxy:2375"), transport=handler)


async def test_a_socket_proxy_refusing_a_section_says_which_switch_allows_it() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/containers"):
            return httpx.Response(200, json=[])
        return httpx.Response(403, text="<html><body><h1>403 Forbidden</h1></body></html>")

    answer, failed = await call(_server(httpx.MockTransport(proxy)), "list_containers")
    assert not failed and answer == "No containers."

    def no_containers(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="<html><body><h1>403 Forbidden</h1></body></html>")

    answer, failed = await call(_server(httpx.MockTransport(no_containers)), "list_containers")
    assert failed and one_line(answer).endswith(
        "docker-proxy:2375 refused GET /containers/json (HTTP 403): if it is a socket proxy, "
        "allow reading containers (CONTAINERS=1)"
    )


async def test_an_answer_that_is_not_the_engine_api_says_so() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>router login</html>"))
    answer, failed = await call(_server(transport), "list_containers")
    assert failed and one_line(answer).endswith(
        "docker-proxy:2375 did not answer /containers/json with JSON: is DOCKER_HOST a Docker Engine "
        "or a socket proxy?"
    )


async def test_a_timeout_says_docker_did_not_answer_in_time() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    answer, failed = await call(_server(httpx.MockTransport(slow)), "list_containers")
    assert failed and one_line(answer).endswith(
        "Docker at docker-proxy:2375 did not answer within 10 s: is it overloaded?"
    )


async def test_an_engine_error_passes_docker_s_own_message_on() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "layer does not exist"})

    answer, failed = await call(_server(httpx.MockTransport(broken)), "list_containers")
    assert failed and one_line(answer).endswith(
        "Docker answered HTTP 500 to GET /containers/json: layer does not exist"
    )
