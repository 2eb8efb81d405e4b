"""Logging to stderr with secrets redacted, as every entry point (agent and tool servers) sets it up."""

from __future__ import annotations

import json

import pytest
import structlog

from homelab_common.logs import configure_logging


def test_known_secrets_and_secret_looking_keys_never_reach_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json", secrets=["tok-123456"])
    log = structlog.get_logger("t")
    log.info(
        "call", url="http://jsonrpc:tok-123456@kb/", headers={"Authorization": "Bearer abc"}, api_key="k"
    )
    err = capsys.readouterr().err
    event = json.loads(err.strip().splitlines()[-1])
    assert "tok-123456" not in err and "Bearer abc" not in err
    assert event["url"] == "http://***@kb/"  # userinfo goes whole: a user name can be a token
    assert event["headers"]["Authorization"] == "***" and event["api_key"] == "***"


def test_logs_go_to_stderr_and_leave_stdout_alone(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "console")
    structlog.get_logger("t").info("hello")
    out, err = capsys.readouterr()
    assert out == "" and "hello" in err


def test_token_counts_are_logged_as_numbers_not_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    structlog.get_logger("t").info("model.step", tokens_in=812, tokens_out=40, bearer_token="abcd1234")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["tokens_in"] == 812 and event["tokens_out"] == 40 and event["bearer_token"] == "***"


def test_secrets_written_into_a_message_are_blanked_by_the_shared_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    structlog.get_logger("t").info("server said: DB_PASSWORD=hunter22 via postgres://app:pw9x@db/app")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["event"] == "server said: DB_PASSWORD=*** via postgres://***@db/app"
