"""The MCP servers a benchmark run asks through: the ones the example config ships, or Kanboard alone.

`open_servers` reads `config/homelab-agent.example.toml` (what a new user copies) and builds each
of its `[mcpServers.*]` in-process, the way `agent.app.open_toolbox` wires them: the same names,
tool prefixes, allow/deny filters, timeouts and tool-list TTLs. Only where the tools reach differs:
the Kanboard server answers from the benchmark's board (served in-process by the emulator, set up
as a real Kanboard so no demo banner shows), and the Docker server talks to `docker_host`: by
default a socket that is not there, as on a machine without Docker; a scratch engine
(`scripts/scratch-dockerd.sh`) when one is given. `Servers(mode="kanboard")` keeps the Kanboard
server alone, for comparison with earlier numbers. This module runs no model and scores nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
from mcp.server.mcpserver import MCPServer
from pydantic import SecretStr

from agent.config import ServerSettings, load_config
from agent.toolsets.base import FilteredToolset, Toolbox, Toolset
from agent.toolsets.mcp import MCPToolset
from tools.docker.server import build_server as docker_server
from tools.docker.settings import DockerSettings
from tools.kanboard.server import build_server as kanboard_server
from tools.kanboard.settings import KanboardSettings
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL

__all__ = ["MISSING_DOCKER", "SHIPPED_CONFIG", "Servers", "ServersMode", "open_servers"]

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "homelab-agent.example.toml"
MISSING_DOCKER = "unix:///nonexistent/homelab-agent-benchmark/docker.sock"
"""A DOCKER_HOST with no engine behind it: a machine where Docker is not installed or not running."""

ServersMode = Literal["kanboard", "shipped"]
_KANBOARD, _DOCKER = "homelab-agent-kanboard", "homelab-agent-docker"


@dataclass(frozen=True)
class Servers:
    """Which servers a run asks through."""

    mode: ServersMode = "shipped"  # "shipped": every server of `config`; "kanboard": Kanboard alone
    docker_host: str = MISSING_DOCKER  # the Docker server's DOCKER_HOST
    config: Path = SHIPPED_CONFIG

    def describe(self) -> dict[str, Any]:
        """What a result file records about the servers."""
        shown = self.docker_host if self.mode == "shipped" else None
        return {"servers": self.mode, "docker_host": shown, "servers_config": self.config.name}


def _command(entry: ServerSettings) -> str:
    return Path(entry.command or "").name


def _in_process(
    name: str,
    entry: ServerSettings,
    transport: httpx.AsyncBaseTransport,
    writes: bool,
    kanboard: KanboardSettings | None,
) -> MCPServer:
    """The server `entry` starts, built in-process over the benchmark's board and Docker host."""
    command = _command(entry)
    if command == _KANBOARD:
        real = {"url": DEMO_URL, "secret": SecretStr(DEMO_TOKEN), "enable_writes": writes}
        return kanboard_server((kanboard or KanboardSettings()).model_copy(update=real), transport=transport)
    if command == _DOCKER:
        env = {key: value.get_secret_value() for key, value in entry.env.items()}
        return docker_server(DockerSettings.from_env(env))
    raise ValueError(
        f"server {name!r} runs {entry.command or entry.url!r}: the benchmark can only build "
        f"{_KANBOARD} and {_DOCKER} in-process"
    )


@asynccontextmanager
async def open_servers(
    servers: Servers,
    transport: httpx.AsyncBaseTransport,
    *,
    writes: bool,
    kanboard: KanboardSettings | None = None,
) -> AsyncIterator[Toolbox]:
    """A toolbox over `servers`, the Kanboard server answering from the board behind `transport`."""
    config = load_config(servers.config, env={"DOCKER_HOST": servers.docker_host})
    built = [
        (name, entry, _in_process(name, entry, transport, writes, kanboard))
        for name, entry in config.mcpServers.items()
        if not entry.disabled
        and not entry.serves_this_agent()
        and (servers.mode == "shipped" or _command(entry) == _KANBOARD)
    ]
    async with anyio.create_task_group() as tg:
        toolsets: list[Toolset] = []
        for name, entry, server in built:
            mcp = MCPToolset(
                name,
                tg,
                server=server,
                timeout_s=entry.timeout_s,
                connect_timeout_s=entry.connect_timeout_s,
                tools_ttl_s=entry.tools_ttl_s,
            )
            toolsets.append(FilteredToolset(mcp, allow=entry.allow, deny=entry.deny))
        toolbox = Toolbox(toolsets, prefix=config.prefix_tools)
        try:
            yield toolbox
        finally:
            with anyio.CancelScope(shield=True):
                await toolbox.aclose()
            tg.cancel_scope.cancel()
