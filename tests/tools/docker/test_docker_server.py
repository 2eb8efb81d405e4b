"""The Docker MCP tools through an in-process `mcp.Client`, against a real Docker Engine running
the test stack: two compose projects with a healthy, an unhealthy, a restarting and an exited
container, and a loose one."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from tests.support.docker_stack import Stack, steady
from tests.tools.docker.conftest import call, text
from tools.docker import DockerSettings, build_server

pytestmark = pytest.mark.docker_engine

READ_TOOLS = {"list_containers", "container_details", "container_logs", "resource_usage"}


def line_of(answer: str, label: str) -> str:
    """The line of `answer` about the container labelled `label` ("- label: ...")."""
    return next(line for line in answer.splitlines() if line.startswith(f"- {label}"))


async def test_there_are_four_read_only_tools_with_short_descriptions(live_server: MCPServer) -> None:
    async with Client(live_server) as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == READ_TOOLS
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert len(tool.description or "") < 100
        assert all("title" not in prop for prop in tool.input_schema["properties"].values())


async def test_list_containers_groups_the_stack_by_compose_project_with_each_state(
    live_server: MCPServer,
) -> None:
    answer, failed = await call(live_server, "list_containers")
    assert not failed
    lines = answer.splitlines()
    assert (
        lines.index("media (2):") < lines.index("office (3):") < lines.index("Not in a compose project (1):")
    )
    assert "1 unhealthy" in lines[0] and "1 exited" in lines[0]
    assert "running" in line_of(answer, "jellyfin") and "healthy" in line_of(answer, "jellyfin")
    assert "UNHEALTHY" in line_of(answer, "paperless")
    assert "EXITED with code 3" in line_of(answer, "db")
    assert "running" in line_of(answer, "speedtest")


async def test_a_restarting_container_shows_as_restarting_with_its_restart_count(
    live_server: MCPServer, stack: Stack
) -> None:
    # it runs for a few milliseconds between restarts: look while it is between two of them
    answer, _ = await steady(stack, lambda: call(live_server, "list_containers", project="media"))
    sonarr = line_of(answer, "sonarr")
    assert "RESTARTING (not running: it keeps exiting), last exit code 1" in sonarr
    restarts = int(sonarr.split(" restarts")[0].rsplit(" ", 1)[1])
    assert restarts >= 3


async def test_published_ports_and_image_ages_are_on_each_line(live_server: MCPServer, stack: Stack) -> None:
    answer, _ = await call(live_server, "list_containers")
    assert "ports 127.0.0.1:8080->80/tcp" in line_of(answer, "kanboard")
    assert "ports 8096->8096/tcp" in line_of(answer, "jellyfin")
    assert "image kanboard/kanboard:v1.2.42 (" in line_of(answer, "kanboard")
    assert " days old)" in line_of(answer, "kanboard")


async def test_a_project_filter_shows_only_that_project_and_a_wrong_one_lists_the_projects(
    live_server: MCPServer,
) -> None:
    answer, failed = await call(live_server, "list_containers", project="Office")
    assert not failed and answer.startswith("3 containers in office:") and "jellyfin" not in answer
    answer, failed = await call(
        live_server, "list_containers", project="jellyfin"
    )  # a service, not a project
    assert not failed and "jellyfin" in answer and "kanboard" not in answer
    answer, failed = await call(live_server, "list_containers", project="garage")
    assert failed and "No compose project 'garage'. Projects: media, office." in answer


async def test_an_unhealthy_container_shows_its_last_health_check_output(live_server: MCPServer) -> None:
    answer, failed = await call(live_server, "container_details", container="paperless")
    assert not failed
    assert answer.startswith("office/paperless (container office-paperless-1, id ")
    assert "UNHEALTHY" in answer
    assert "exit 1: database connection refused for paperless:***" in answer
    assert "Mounts: bind " in answer and "-> /usr/src/paperless/consume (read-only)" in answer
    assert "Compose file: /srv/office/docker-compose.yml" in answer


async def test_an_exited_container_shows_its_exit_code_and_when_it_stopped(live_server: MCPServer) -> None:
    answer, _ = await call(live_server, "container_details", container="office/db")
    assert "State: EXITED with code 3, " in answer and "; stopped " in answer
    assert "Restarts: 0 (restart policy: no)" in answer
    assert "Image: postgres:16.4 (" in answer and "built 2024-08-08" in answer


async def test_details_show_mounts_ports_and_variable_names_but_no_values(live_server: MCPServer) -> None:
    answer, _ = await call(live_server, "container_details", container="kanboard")
    assert "Mounts: volume office_kanboard_data -> /var/www/app/data" in answer
    assert "Ports: 127.0.0.1:8080->80/tcp" in answer
    answer, _ = await call(live_server, "container_details", container="paperless")
    env = next(line for line in answer.splitlines() if line.startswith("Environment"))
    assert env == (
        "Environment (values hidden): PAPERLESS_DBHOST, PAPERLESS_DBPASS, PAPERLESS_SECRET_KEY, TZ; "
        "2 more from the image"
    )


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("office-kanboard-1", "office/kanboard"),
        ("office/kanboard", "office/kanboard"),
        ("Kanboard", "office/kanboard"),
        ("jelly", "media/jellyfin"),
        ("speedtest", "speedtest"),
    ],
)
async def test_containers_are_found_by_name_service_or_part_of_a_name(
    live_server: MCPServer, name: str, key: str
) -> None:
    answer, failed = await call(live_server, "container_details", container=name)
    assert not failed and answer.startswith(f"{key} (")


async def test_containers_are_found_by_id_prefix(live_server: MCPServer, stack: Stack) -> None:
    answer, failed = await call(live_server, "container_details", container=stack.ids["media/sonarr"][:8])
    assert not failed and answer.startswith("media/sonarr (")


async def test_an_unknown_or_ambiguous_name_says_what_there_is(live_server: MCPServer) -> None:
    answer, failed = await call(live_server, "container_details", container="nextcloud")
    assert failed and "No container matches 'nextcloud'. Containers: media/jellyfin, media/sonarr" in answer
    answer, failed = await call(live_server, "container_logs", container="office")
    assert failed and "3 containers match 'office': office/db, office/kanboard, office/paperless" in answer


async def test_logs_show_the_last_lines_oldest_first_with_their_time(live_server: MCPServer) -> None:
    answer, failed = await call(live_server, "container_logs", container="paperless", lines=2)
    assert not failed
    lines = answer.splitlines()
    assert lines[0].startswith("Last 2 log lines of office/paperless, oldest first")
    assert lines[-1].endswith("ERROR: could not connect to server: Connection refused")
    assert lines[-2].endswith("connecting to postgres://***@db:5432/paperless")
    assert lines[-1][2] == ":" and lines[-1][5] == ":"  # HH:MM:SS


async def test_logs_are_bounded_in_lines_and_characters(stack: Stack) -> None:
    server = build_server(DockerSettings(host=stack.host, max_log_lines=3, max_log_chars=200))
    answer, _ = await call(server, "container_logs", container="sonarr", lines=500)
    shown = [line for line in answer.splitlines()[1:] if not line.startswith("--")]
    assert len(shown) == 3
    server = build_server(DockerSettings(host=stack.host, max_log_chars=200))
    answer, _ = await call(server, "container_logs", container="paperless", lines=50)
    assert "older lines left out to keep this short" in answer.splitlines()[0]
    assert len(answer) < 200 + len(answer.splitlines()[0]) + 20


async def test_resource_usage_samples_the_running_containers_and_names_the_others(
    live_server: MCPServer,
) -> None:
    answer, failed = await call(live_server, "resource_usage")
    assert not failed
    assert answer.startswith("CPU and memory right now of 4 running containers")
    for key in ("media/jellyfin", "office/kanboard", "office/paperless", "speedtest"):
        assert f"- {key}: CPU " in answer and "memory " in line_of(answer, key)
    not_running = answer.splitlines()[-1]
    assert not_running.startswith("Not running: ") and "office/db (EXITED with code 3" in not_running


async def test_no_environment_value_ever_appears_in_any_tool_result(
    live_server: MCPServer, stack: Stack
) -> None:
    calls: list[tuple[str, dict[str, object]]] = [("list_containers", {}), ("resource_usage", {})]
    for spec in stack.specs:
        calls += [
            ("container_details", {"container": spec.key}),
            ("container_logs", {"container": spec.key, "lines": 200}),
        ]
    async with Client(live_server) as client:
        for tool, args in calls:
            answer = text(await client.call_tool(tool, args))
            for secret in stack.secrets:
                assert secret not in answer, (tool, args)
                assert secret[:12] not in answer, (tool, args)
    logs = text(await _logs(live_server, "paperless"))
    assert "PAPERLESS_DBPASS=***" in logs and "using secret key ***" in logs  # they were there, blanked


async def _logs(server: MCPServer, container: str) -> object:
    async with Client(server) as client:
        return await client.call_tool("container_logs", {"container": container})


class _Recording(httpx.AsyncBaseTransport):
    """The real socket transport, noting every request's method and path."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_every_tool_only_ever_sends_get_requests(stack: Stack) -> None:
    settings = DockerSettings(host=stack.host)
    assert settings.socket_path is not None
    recording = _Recording(httpx.AsyncHTTPTransport(uds=settings.socket_path))
    server = build_server(settings, transport=recording)
    async with Client(server) as client:
        for tool, args in [
            ("list_containers", {}),
            ("container_details", {"container": "paperless"}),
            ("container_logs", {"container": "sonarr"}),
            ("resource_usage", {"project": "media"}),
        ]:
            assert not (await client.call_tool(tool, args)).is_error
    methods = {request.split()[0] for request in recording.seen}
    assert methods == {"GET"} and len(recording.seen) > 10
