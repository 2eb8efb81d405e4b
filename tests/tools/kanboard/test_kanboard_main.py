"""The `homelab-agent-kanboard` entry point: settings from the environment, stdio, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters

import tools.kanboard as kanboard
from tests.support.http_servers import free_port
from tests.tools.kanboard.conftest import TOKEN, text
from tools.kanboard import build_server
from tools.kanboard.__main__ import main
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN, load_seed

ROOT = Path(__file__).resolve().parents[3]


def test_settings_read_the_app_token_from_the_environment() -> None:
    env = {"KANBOARD_URL": "http://kanboard.lan/", "KANBOARD_TOKEN": TOKEN, "KANBOARD_ENABLE_WRITES": "1"}
    settings = KanboardSettings.from_env(env)
    assert settings.username == "jsonrpc" and settings.secret is not None
    assert settings.secret.get_secret_value() == TOKEN
    assert settings.enable_writes and settings.endpoint == "http://kanboard.lan/jsonrpc.php"
    assert TOKEN not in repr(settings)


def test_settings_read_a_user_login_and_timeout_from_the_environment() -> None:
    env = {
        "KANBOARD_URL": "https://kb.example.net/jsonrpc.php",
        "KANBOARD_USERNAME": "alice",
        "KANBOARD_PASSWORD": "alice-pw",
        "KANBOARD_TIMEOUT": "3.5",
    }
    settings = KanboardSettings.from_env(env)
    assert (settings.username, settings.timeout, settings.enable_writes) == ("alice", 3.5, False)
    assert settings.endpoint == "https://kb.example.net/jsonrpc.php"


def test_settings_read_how_long_the_board_index_is_reused_from_the_environment() -> None:
    settings = KanboardSettings.from_env({"KANBOARD_INDEX_TTL": "5", "KANBOARD_INDEX_FULL": "60.5"})
    assert (settings.index_ttl_s, settings.index_full_s) == (5.0, 60.5)
    defaults = KanboardSettings.from_env({"KANBOARD_INDEX_TTL": " ", "KANBOARD_INDEX_FULL": ""})
    assert (defaults.index_ttl_s, defaults.index_full_s) == (20.0, 300.0)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        KanboardSettings.from_env({"KANBOARD_INDEX_TTL": "-1"})


def test_no_url_means_the_demo_board_and_a_url_without_credentials_is_refused() -> None:
    assert KanboardSettings.from_env({}).is_demo
    with pytest.raises(ValueError, match="set KANBOARD_TOKEN"):
        KanboardSettings.from_env({"KANBOARD_URL": "http://kanboard.lan"})


def test_settings_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        KanboardSettings.model_validate({"url": None, "tokne": "x"})


def test_the_cli_explains_a_bad_configuration_instead_of_a_traceback() -> None:
    result = CliRunner().invoke(main, [], env={"KANBOARD_URL": "kanboard.lan", "KANBOARD_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "KANBOARD_URL must be an http:// or https:// URL" in result.output
    assert TOKEN not in result.output


def test_the_cli_offers_stdio_http_and_the_demo_board() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "--transport [stdio|http]" in result.output and "demo" in result.output


def test_the_public_names_are_pinned() -> None:
    assert sorted(kanboard.__all__) == [
        "KanboardAuthError",
        "KanboardClient",
        "KanboardError",
        "KanboardForbiddenError",
        "KanboardNotFoundError",
        "KanboardRPCError",
        "KanboardRejectedError",
        "KanboardSettings",
        "KanboardUnreachableError",
        "build_server",
    ]


async def test_the_stdio_server_serves_the_demo_board_when_no_url_is_set() -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "tools.kanboard"], cwd=ROOT, env={})
    async with Client(params) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        overview = text(await client.call_tool("list_projects", {}))
    assert {"list_projects", "show_board", "get_task"} <= tools and "create_task" not in tools
    assert overview.startswith("DEMO BOARD (no KANBOARD_URL set)")


def test_the_cli_takes_dash_h_for_help() -> None:
    result = CliRunner().invoke(main, ["-h"])
    assert result.exit_code == 0 and "--transport [stdio|http]" in result.output


async def test_every_answer_from_the_demo_board_says_it_is_the_demo_board_and_the_server_has_a_version() -> (
    None
):
    server = build_server(KanboardSettings(enable_writes=True))
    async with Client(server, mode="legacy") as client:
        assert client.server_info is not None and client.server_info.version
        calls = {
            "list_projects": {},
            "show_board": {"project": "Homelab"},
            "search_tasks": {"query": "status:open"},
            "overdue_tasks": {},
            "tasks_of": {"person": "alice"},
            "list_people": {},
            "add_comment": {"task": "#1", "text": "noted"},
        }
        answers = {name: text(await client.call_tool(name, args)) for name, args in calls.items()}
    for name, answer in answers.items():
        assert answer.startswith("DEMO BOARD (no KANBOARD_URL set)"), name
        assert answer.count("DEMO BOARD") == 1, name


def test_the_demo_command_serves_the_board_of_a_seed_file_over_http(tmp_path: Path) -> None:
    seed = load_seed()
    seed["projects"][0]["name"] = "Garden Shed"
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    port = free_port()
    command = [sys.executable, "-m", "tools.kanboard", "demo", "--port", str(port), "--seed", str(path)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/jsonrpc.php"
    request = {"jsonrpc": "2.0", "method": "getAllProjects", "id": 1}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.post(url, json=request, auth=("jsonrpc", DEMO_TOKEN), timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the demo board did not come up"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [p["name"] for p in answer["result"]][:1] == ["Garden Shed"]
