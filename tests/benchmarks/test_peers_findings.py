"""What a peer run reports besides numbers: a peer's exact error as a finding, and the report files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import anyio

from benchmarks.peers.findings import Finding, app_token_refused, markdown, run_errors
from benchmarks.peers.report import write
from benchmarks.peers.run import PeerOutcome
from benchmarks.peers.stacks import Unstarted
from benchmarks.runner import Results


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "kanboard-mcp"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _outcome(id: str, seconds: float, *, correct: bool = True, error: str | None = None) -> PeerOutcome:
    return PeerOutcome(
        id=id, category="lookup", question="?", answer="a", correct=correct, error=error, latency_s=seconds
    )


def test_a_server_that_exits_at_start_is_a_finding_with_its_last_error_line(tmp_path: Path) -> None:
    command = _script(
        tmp_path,
        "echo 'INFO - Connecting' >&2\n"
        "echo 'Connection error: Authentication failed: HTTP Error 403' >&2\n"
        "exit 1",
    )
    finding = app_token_refused(command, {})
    assert finding is not None
    assert finding.outcome == "exit 1: Connection error: Authentication failed: HTTP Error 403"


def test_a_server_that_serves_until_its_input_ends_accepted_the_token(tmp_path: Path) -> None:
    assert app_token_refused(_script(tmp_path, "cat >/dev/null; exit 0"), {}) is None


def test_a_server_that_is_not_installed_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    finding = app_token_refused(str(tmp_path / "missing"), {})
    assert finding is not None and finding.outcome.startswith("FileNotFoundError:")


def test_a_stack_that_could_not_start_fails_every_question_with_its_start_error() -> None:
    stack = Unstarted("peer A", "PeerStartError: MCPError: Connection closed")
    attempt = anyio.run(stack.run, "Which projects are on the board?")
    assert (attempt.answer, attempt.error, attempt.steps) == (
        "",
        "PeerStartError: MCPError: Connection closed",
        [],
    )


def test_run_errors_are_counted_per_stack_and_board_with_the_exact_message() -> None:
    runs = [
        Results(
            label="peer A",
            board="homelab",
            outcomes=[
                _outcome("a", 1, correct=False, error="MaxTurnsExceeded: Max turns (8) exceeded"),
                _outcome("b", 1, correct=False, error="MaxTurnsExceeded: Max turns (8) exceeded"),
                _outcome("c", 1),
            ],
        )
    ]
    assert run_errors(runs) == [
        Finding(
            "peer A", "2 of 3 questions on homelab ended with", "MaxTurnsExceeded: Max turns (8) exceeded"
        )
    ]


def test_findings_render_on_one_line_each_without_breaking_the_code_span() -> None:
    text = markdown([Finding("peer-a", "start it", "Error:\n  bad `template`")])
    assert text == "- **peer-a**: start it:\n  `Error: bad 'template'`\n"
    assert markdown([]) == "None.\n"


def test_the_report_writes_the_table_the_verdict_and_the_findings_as_markdown_and_json(
    tmp_path: Path,
) -> None:
    runs = [
        Results(label="us", board="homelab", outcomes=[_outcome("q1", 1), _outcome("q2", 2)]),
        Results(label="peer A", board="homelab", outcomes=[_outcome("q1", 6), _outcome("q2", 9)]),
    ]
    finding = Finding("peer-a", "kanboard-mcp with the app token", "exit 1: HTTP Error 403: Forbidden")
    md, js = write(
        tmp_path,
        "peers",
        command="python -m benchmarks.peers --threads 2",
        runs=runs,
        findings=[finding],
        versions={"llama-server": "b1"},
        ours="us",
        ours_cold=None,
        peers=["peer A"],
    )
    text = md.read_text()
    assert "python -m benchmarks.peers --threads 2" in text and "HTTP Error 403: Forbidden" in text
    data = json.loads(js.read_text())
    assert data["verdicts"][0].startswith("homelab: MET")
    assert [r["stack"] for r in data["rows"]] == ["us", "peer A"]
    assert data["rows"][1]["ours_over_this"] == 1.5 / 7.5
    assert data["findings"] == [
        {
            "stack": "peer-a",
            "tried": "kanboard-mcp with the app token",
            "outcome": "exit 1: HTTP Error 403: Forbidden",
        }
    ]
