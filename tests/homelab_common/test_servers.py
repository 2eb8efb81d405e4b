"""What the tool servers share: one tool call's client and log event, a settings error in one line."""

from __future__ import annotations

import httpx
import pytest
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, ValidationError
from structlog.testing import capture_logs

from homelab_common.servers import HttpClient, config_message, tool_call


class _ThingError(Exception):
    pass


class _Client(HttpClient):
    def __init__(self) -> None:
        self._http = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200)))


async def test_a_tool_call_closes_its_client_and_turns_the_servers_errors_into_tool_errors() -> None:
    import structlog

    log = structlog.get_logger("test")
    client = _Client()
    with capture_logs() as logs, pytest.raises(ToolError, match="check the token"):
        async with tool_call(client, "list_things", log=log, event="thing.tool", errors=_ThingError):
            raise _ThingError("check the token")
    assert client._http.is_closed
    assert logs == [
        {
            "event": "thing.tool",
            "tool": "list_things",
            "ok": False,
            "error": "_ThingError",
            "log_level": "info",
        }
    ]
    with capture_logs() as logs:
        async with tool_call(_Client(), "list_things", log=log, event="thing.tool", errors=_ThingError):
            pass
    assert logs[0]["ok"] is True and "ms" in logs[0]


def test_a_settings_error_is_one_line_without_pydantics_prefix() -> None:
    class Settings(BaseModel):
        timeout: float = Field(gt=0)

    with pytest.raises(ValidationError) as caught:
        Settings(timeout=-1)
    assert config_message(caught.value) == "Input should be greater than 0"
    assert config_message(ValueError("DOCKER_HOST is not supported")) == "DOCKER_HOST is not supported"
