"""What the tools write, from Engine API answers recorded from the test stack (data/), at a fixed
time: the text is pinned here, and the live tests check the same against a running engine."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from mcp.server.mcpserver import MCPServer

from tests.tools.docker.conftest import SAMPLES, Samples, call
from tools.docker import format as fmt
from tools.docker.client import MAX_LOG_BYTES, _LogReader, _timestamped
from tools.docker.models import Container, Image, Usage
from tools.docker.secrets import hidden_values

RECORDED = datetime.fromisoformat(json.loads(SAMPLES.read_text())["recorded_at"])
LATER = RECORDED + timedelta(hours=3)


def container(samples: Samples, key: str) -> Container:
    return Container.from_inspect(samples.inspected(key))


def everything(samples: Samples) -> tuple[list[Container], dict[str, Image]]:
    containers = [
        Container.from_inspect(answer)
        for path, answer in samples.responses.items()
        if path.startswith("/containers/") and path.endswith("/json") and path != "/containers/json"
    ]
    images = {
        answer["Id"]: Image.from_inspect(answer)
        for path, answer in samples.responses.items()
        if path.startswith("/images/")
    }
    return containers, images


def test_compose_labels_name_containers_project_slash_service(samples: Samples) -> None:
    paperless = container(samples, "office/paperless")
    assert (paperless.project, paperless.service, paperless.key) == (
        "office",
        "paperless",
        "office/paperless",
    )
    assert (
        paperless.name == "office-paperless-1" and paperless.compose_file == "/srv/office/docker-compose.yml"
    )
    assert container(samples, "speedtest").key == "speedtest"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("media/jellyfin", "running 3 h, healthy"),
        ("office/paperless", "running 3 h, UNHEALTHY (3 failed checks in a row)"),
        ("media/sonarr", "RESTARTING (not running: it keeps exiting), last exit code 1, 5 restarts"),
        ("office/db", "EXITED with code 3, 3 h ago"),
        ("speedtest", "running 3 h"),
    ],
)
def test_each_state_reads_as_a_few_words(samples: Samples, key: str, words: str) -> None:
    assert fmt.state(container(samples, key), LATER) == words


def test_the_overview_groups_by_project_with_ports_and_image_ages(samples: Samples) -> None:
    containers, images = everything(samples)
    assert fmt.overview(containers, images, LATER) == "\n".join(
        [
            "7 containers in 2 compose projects: 5 running, 1 unhealthy, 1 restarting, 1 exited.",
            "media (2):",
            "- jellyfin: running 3 h, healthy; ports 8096->8096/tcp; image jellyfin/jellyfin:10.9.6 "
            "(894 days old)",
            "- sonarr: RESTARTING (not running: it keeps exiting), last exit code 1, 5 restarts; "
            "image lscr.io/linuxserver/sonarr:4.0.9 "
            "(821 days old)",
            "office (3):",
            "- db: EXITED with code 3, 3 h ago; image postgres:16.4 (845 days old)",
            "- kanboard: running 3 h, healthy; ports 127.0.0.1:8080->80/tcp; image kanboard/kanboard:v1.2.42 "
            "(758 days old)",
            "- paperless: running 3 h, UNHEALTHY (3 failed checks in a row); ports 127.0.0.1:8000->8000/tcp; "
            "image ghcr.io/paperless-ngx/paperless-ngx:2.13.5 (741 days old)",
            "Not in a compose project (2):",
            "- bridged-web: running 3 h; ports 18080->80/tcp; image ghcr.io/librespeed/speedtest:5.4 "
            "(690 days old)",
            "- speedtest: running 3 h; image ghcr.io/librespeed/speedtest:5.4 (690 days old)",
        ]
    )


def test_a_port_published_on_ipv4_and_ipv6_is_one_port(samples: Samples) -> None:
    containers, _ = everything(samples)
    bridged = next(c for c in containers if c.name == "bridged-web")
    assert [str(p) for p in bridged.ports] == ["18080->80/tcp"]


def test_details_quote_health_checks_and_hide_values(samples: Samples) -> None:
    containers, images = everything(samples)
    paperless = container(samples, "office/paperless")
    answer = fmt.detail(paperless, images[paperless.image_id], LATER, UTC, hidden_values(containers, images))
    lines = answer.splitlines()
    assert lines[1] == "State: running 3 h, UNHEALTHY (3 failed checks in a row); started 2026-12-01 21:58"
    assert lines[2] == "Health: unhealthy, 3 failed checks in a row; last checks:"
    assert lines[3].endswith("exit 1: database connection refused for paperless:***")
    assert "Image: ghcr.io/paperless-ngx/paperless-ngx:2.13.5 (" in answer and "built 2024-11-20" in answer
    for secret in samples.secrets:
        assert secret not in answer


def test_values_set_for_a_container_are_hidden_but_image_defaults_and_names_are_not(samples: Samples) -> None:
    containers, images = everything(samples)
    hidden = hidden_values(containers, images)
    assert set(samples.secrets) <= set(hidden)
    assert "Europe/Berlin" in hidden and "http://media.lan:8096" in hidden
    assert "paperless" not in hidden  # POSTGRES_USER: a name the tools show anyway
    assert "1000" not in hidden and "/srv/app" not in hidden and "/bin" not in hidden  # PUID; image defaults


def test_recorded_logs_are_demultiplexed_timestamped_and_scrubbed(samples: Samples) -> None:
    containers, images = everything(samples)
    paperless = container(samples, "office/paperless")
    reader = _LogReader(multiplexed=True)
    reader.feed(samples.logs[paperless.id])
    entries = [_timestamped(line) for line in reader.text().splitlines()]
    answer = fmt.logs(paperless, entries, LATER, UTC, hidden_values(containers, images))
    assert answer.splitlines() == [
        "Last 5 log lines of office/paperless, oldest first (times UTC; secrets hidden):",
        "-- 2026-12-01",
        "21:58:52 paperless starting",
        "21:58:52 PAPERLESS_DBPASS=***",
        "21:58:52 using secret key ***",
        "21:58:52 connecting to postgres://***@db:5432/paperless",
        "21:58:52 ERROR: could not connect to server: Connection refused",
    ]


def test_a_log_stream_larger_than_the_limit_keeps_its_newest_end() -> None:
    line = b"x" * 1000 + b"\n"
    frame = b"\x01\x00\x00\x00" + len(line).to_bytes(4, "big") + line
    reader = _LogReader(multiplexed=True)
    for _ in range(MAX_LOG_BYTES // len(line) + 50):
        reader.feed(frame)
    reader.feed(b"\x02\x00\x00\x00" + (5).to_bytes(4, "big") + b"last\n")
    text = reader.text()
    assert text.endswith("last\n") and len(text) <= MAX_LOG_BYTES
    assert all(len(kept) == 1000 for kept in text.splitlines()[:-1])  # no half line at the start


def test_logs_keep_the_newest_lines_that_fit_and_say_how_many_were_left_out(samples: Samples) -> None:
    db = container(samples, "office/db")
    entries = [(RECORDED + timedelta(seconds=i), f"line {i} " + "y" * 40) for i in range(100)]
    answer = fmt.logs(db, entries, LATER, UTC, max_chars=500)
    lines = answer.splitlines()
    assert "older lines left out to keep this short" in lines[0]
    assert lines[-1].split()[2] == "99" and len("\n".join(lines[1:])) <= 520


def test_a_cpu_and_memory_sample_counts_like_docker_stats(samples: Samples) -> None:
    stats = next(v for k, v in samples.responses.items() if k.endswith("/stats"))
    usage = Usage.from_stats(stats)
    assert usage.cpus == stats["cpu_stats"]["online_cpus"] and usage.cpu_percent >= 0
    assert 0 < usage.memory <= stats["memory_stats"]["usage"]
    jellyfin = container(samples, "media/jellyfin")
    busy = Usage(cpu_percent=12.5, memory=150 * 2**20, memory_limit=512 * 2**20, cpus=2)
    idle = Usage(cpu_percent=0.1, memory=20 * 2**20, memory_limit=8 * 2**30, cpus=2)
    answer = fmt.usage([(container(samples, "speedtest"), idle), (jellyfin, busy)], [], LATER)
    assert answer.splitlines() == [
        "CPU and memory right now of 2 running containers (host: 2 CPUs, 8.0 GiB; CPU % is of one CPU), "
        "busiest first:",
        "- media/jellyfin: CPU 12.5%, memory 150 MiB of a 512 MiB limit (29%)",
        "- speedtest: CPU 0.1%, memory 20 MiB",
    ]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(-5, "0 s"), (59, "59 s"), (60, "1 min"), (7200, "2 h"), (86400, "1 day"), (86400 * 40, "40 days")],
)
def test_durations_use_the_largest_unit_and_never_go_negative(seconds: float, words: str) -> None:
    assert fmt.duration(seconds) == words


async def test_the_server_reads_recorded_answers_and_only_sends_gets(
    recorded_server: MCPServer, samples: Samples
) -> None:
    answer, failed = await call(recorded_server, "container_details", container="bridged")
    assert not failed and answer.startswith("bridged-web (id ") and "Ports: 18080->80/tcp" in answer
    answer, failed = await call(recorded_server, "container_logs", container="paperless", lines=3)
    assert not failed and answer.splitlines()[-1].endswith("Connection refused")
    for secret in samples.secrets:
        assert secret not in answer
    assert {request.split()[0] for request in samples.requests} == {"GET"}


def test_the_recorded_samples_came_from_a_real_engine() -> None:
    data = json.loads(SAMPLES.read_text())
    assert data["engine"].startswith("Docker Engine ")
    logs = base64.b64decode(next(iter(data["logs"].values())))
    assert logs[:1] == b"\x01" and logs[4:8] != b"\x00\x00\x00\x00"  # a multiplexed frame header
