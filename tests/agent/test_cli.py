"""The `homelab-agent` command line, end to end: a real config, a stdio MCP server, and an
OpenAI-compatible fake model server on loopback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from agent.cli import main
from tests.conftest import ROOT
from tests.support.fake_openai import Reply, serve_fake_openai

SECRET = "kb-secret-token-4711"


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "homelab-agent.toml"
    path.write_text(
        f"""
[models.fake]
backend = "openai"
url = "{url}"
remote_model = "fake"

[agent]
model = "fake"

[mcpServers.notes]
command = "{sys.executable}"
args = ["-m", "tests.support.notes_server"]
cwd = "{ROOT}"
env = {{ KANBOARD_TOKEN = "{SECRET}" }}
{extra}
"""
    )
    return path


def run_cli(
    tmp_path: Path, replies: list[Reply], *args: str, stdin: str | None = None
) -> tuple[int, str, str, list]:  # type: ignore[type-arg]
    with serve_fake_openai(replies) as fake:
        config = write_config(tmp_path, fake.url)
        result = CliRunner().invoke(
            main, ["--config", str(config), *args], input=stdin, catch_exceptions=False
        )
    return result.exit_code, result.stdout, result.stderr, fake.requests


def test_ask_streams_the_answer_to_stdout_and_the_trace_to_stderr(tmp_path: Path) -> None:
    code, out, err, requests = run_cli(
        tmp_path,
        [{"name": "notes__get_note", "arguments": {"topic": "backup"}}, "Backups run at 02:00."],
        "ask",
        "--trace",
        "When do backups run?",
    )
    assert code == 0, err
    assert out.strip() == "Backups run at 02:00."
    assert "→ notes__get_note(topic='backup')" in err
    assert "step 2" in err and "total" in err
    tool_messages = [m for m in requests[1]["messages"] if m["role"] == "tool"]
    assert "Nightly ZFS snapshots" in tool_messages[0]["content"]


def test_ask_json_prints_the_answer_and_every_step(tmp_path: Path) -> None:
    code, out, err, _ = run_cli(
        tmp_path,
        [{"name": "notes__search", "arguments": {"text": "zfs"}}, "The backup note."],
        "ask",
        "--json",
        "Which note mentions ZFS?",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["answer"] == "The backup note."
    assert data["steps"][0]["tool_calls"][0] == data["steps"][0]["tool_calls"][0] | {
        "name": "notes__search",
        "arguments": {"text": "zfs"},
        "result": "backup",
        "is_error": False,
    }


def test_chat_keeps_the_conversation_across_questions(tmp_path: Path) -> None:
    code, out, err, requests = run_cli(
        tmp_path,
        ["The router runs OPNsense.", "Firmware 24.7."],
        "chat",
        stdin="What runs the router?\nWhich firmware?\n",
    )
    assert code == 0, err
    assert "The router runs OPNsense." in out and "Firmware 24.7." in out
    second = [m["content"] for m in requests[1]["messages"]]
    assert "What runs the router?" in second and "The router runs OPNsense." in second


def test_tools_lists_namespaced_tools_and_their_prompt_cost(tmp_path: Path) -> None:
    code, out, err, _ = run_cli(tmp_path, [], "tools")
    assert code == 0, err
    assert "notes__get_note" in out and "read-only" in out
    assert "prompt tokens of definitions" in err


def test_config_check_names_the_file_and_key_of_a_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[agent]\nmax_steps = 0\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 2
    assert f"error: {bad}" in result.stderr and "agent.max_steps" in result.stderr


def test_config_check_connects_to_the_servers_when_asked(tmp_path: Path) -> None:
    code, out, err, _ = run_cli(tmp_path, [], "config", "check", "--connect")
    assert code == 0, err
    assert "server notes: 6 tools" in out and "config OK" in out


def test_a_missing_config_file_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "ask", "hi"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_secrets_never_reach_the_output_even_at_debug_level(tmp_path: Path) -> None:
    code, out, err, _ = run_cli(
        tmp_path,
        [{"name": "notes__get_note", "arguments": {"topic": "router"}}, "ok"],
        "--log-level",
        "debug",
        "ask",
        "--trace",
        "router?",
    )
    assert code == 0, err
    assert "model.step" in err
    assert SECRET not in out and SECRET not in err
