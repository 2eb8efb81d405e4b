"""Row 13 of issue 12: a server other machines can reach needs a token worth the name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.exceptions import ConfigError
from agent.models.scripted import ScriptedModel
from agent.serve import auth
from agent.serve.auth import check_bind
from agent.serve.http import http_server
from tests.serve.conftest import served


@pytest.mark.parametrize("token", ["x", "a" * 23])
async def test_a_short_token_on_a_public_address_refuses_to_start(token: str) -> None:
    async with served(ScriptedModel(), bearer_token=token) as service:
        with pytest.raises(ConfigError, match="at least 24 characters"):
            http_server(service, "0.0.0.0", 0)


def test_a_long_enough_token_or_a_loopback_bind_is_accepted() -> None:
    assert getattr(auth, "MIN_TOKEN_LENGTH", None) == 24
    check_bind("0.0.0.0", "a" * 24)
    check_bind("127.0.0.1", "x")


def test_the_cli_refuses_a_short_token_off_loopback_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[serve]\nhost = "0.0.0.0"\nbearer_token = "x"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "serve", "--transport", "http"])
    assert result.exit_code == 2
    assert "at least 24 characters" in result.output and "openssl rand -hex 32" in result.output
    assert "Traceback" not in result.output
