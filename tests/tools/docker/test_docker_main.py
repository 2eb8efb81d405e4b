"""The `homelab-agent-docker` entry point: settings from the environment, the CLI, stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

import tools.docker as docker
from tests.tools.docker.conftest import text
from tools.docker.__main__ import main
from tools.docker.settings import DockerSettings

ROOT = Path(__file__).resolve().parents[3]


def test_the_package_exports_exactly_the_public_names() -> None:
    assert sorted(docker.__all__) == [
        "DockerAPIError",
        "DockerClient",
        "DockerError",
        "DockerForbiddenError",
        "DockerNotFoundError",
        "DockerPermissionError",
        "DockerSettings",
        "DockerUnreachableError",
        "build_server",
    ]
    for name in docker.__all__[1:]:
        error = getattr(docker, name)
        if name.endswith("Error"):
            assert issubclass(error, docker.DockerError)


def test_settings_default_to_the_local_socket_and_read_docker_host() -> None:
    assert DockerSettings.from_env({}).socket_path == "/var/run/docker.sock"
    proxy = DockerSettings.from_env({"DOCKER_HOST": "tcp://docker-proxy:2375", "DOCKER_TIMEOUT": "3"})
    assert (proxy.socket_path, proxy.base_url, proxy.timeout) == (None, "http://docker-proxy:2375", 3.0)
    rootless = DockerSettings.from_env({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"})
    assert rootless.socket_path == "/run/user/1000/docker.sock" and rootless.base_url == "http://docker"


def test_settings_read_the_log_limits_and_the_reachability_ttl_from_the_environment() -> None:
    env = {
        "DOCKER_LOG_LINES": "10",
        "DOCKER_MAX_LOG_LINES": "50",
        "DOCKER_MAX_LOG_CHARS": "1000",
        "DOCKER_REACHABLE_TTL": "2.5",
    }
    settings = DockerSettings.from_env(env)
    assert (settings.log_lines, settings.max_log_lines, settings.max_log_chars) == (10, 50, 1000)
    assert settings.reachable_ttl_s == 2.5
    defaults = DockerSettings.from_env({"DOCKER_LOG_LINES": ""})
    assert (defaults.log_lines, defaults.max_log_lines, defaults.max_log_chars) == (30, 200, 4000)
    with pytest.raises(ValueError, match="greater than or equal to 200"):
        DockerSettings.from_env({"DOCKER_MAX_LOG_CHARS": "50"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DOCKER_HOST": "ssh://me@nas"}, "DOCKER_HOST='ssh://me@nas' is not supported"),
        ({"DOCKER_HOST": "tcp://docker-proxy"}, "tcp://HOST:PORT"),
        (
            {"DOCKER_HOST": "tcp://nas:2376", "DOCKER_TLS_VERIFY": "1"},
            "TLS to the Docker daemon is not supported",
        ),
    ],
)
def test_the_cli_explains_an_unsupported_docker_host_in_one_line(env: dict[str, str], message: str) -> None:
    result = CliRunner().invoke(main, [], env=env)
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_settings_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        DockerSettings.model_validate({"host": "unix:///x.sock", "allow_exec": True})


def test_the_cli_offers_stdio_and_http() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "stdio" in result.output and "http" in result.output


async def test_the_server_speaks_stdio_as_a_subprocess_and_reports_a_missing_socket() -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tools.docker"],
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock", "PYTHONPATH": str(ROOT)},
        cwd=str(ROOT),
    )
    async with Client(params) as client:
        with pytest.raises(MCPError, match="Docker is not reachable: No Docker socket at /nonexistent"):
            await client.list_tools()  # no tools that can only fail: the listing says why
        result = await client.call_tool("list_containers", {})  # a call made anyway still explains
    assert result.is_error and "No Docker socket at /nonexistent/docker.sock" in text(result)
