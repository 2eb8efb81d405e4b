"""Assemble a running agent from a `Config`: models, MCP servers, and the loop.

`open_agent` is the one place that turns configuration into live objects and closes them again.
It knows nothing about the CLI or HTTP; those call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import structlog

from agent.config import Config
from agent.exceptions import ConfigError
from agent.loop import Agent
from agent.models.base import Model
from agent.policy import Policy
from agent.system_prompt import read_prompt
from agent.toolsets.base import FilteredToolset, Toolbox, Toolset
from agent.toolsets.mcp import MCPToolset

__all__ = ["Runtime", "build_answering_model", "open_agent", "open_toolbox"]

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """A live agent and what it owns."""

    agent: Agent
    toolbox: Toolbox
    models: dict[str, Model]  # every model built, by name


def _build_models(config: Config, names: Sequence[str]) -> dict[str, Model]:
    from agent.models.factory import build_model
    from agent.models.prefix_states import PrefixStates

    models_dir = Path(config.models_dir).expanduser()
    cache = config.prefix_cache
    states = PrefixStates(Path(cache.dir), cache.max_mb * 1024**2) if cache.max_mb else None
    return {name: build_model(config.models[name], name, models_dir, states) for name in names}


def build_answering_model(config: Config) -> tuple[Model | Policy, dict[str, Model]]:
    """The model named by `agent.model` (a configured model, or the router), and every model it uses.

    `Config` has checked, when it loaded, that the names are set and in `[models]`.

    Raises:
        ConfigError: the config names no models at all (it only lists tools).
    """
    if config.tools_only:
        raise ConfigError(
            "the config has no [models] to answer with (it only lists MCP servers); add a [models.NAME] "
            "table and set agent.model (see config/homelab-agent.example.toml)"
        )
    models = _build_models(config, sorted(config.used_models()))
    if config.agent.routed:
        from agent.router import Router

        return Router.from_settings(config.router, models), models
    return models[config.agent.model], models


@asynccontextmanager
async def open_toolbox(config: Config, extra_toolsets: Sequence[Toolset] = ()) -> AsyncIterator[Toolbox]:
    """Connect the configured MCP servers (lazily, on first use) behind one `Toolbox`.

    An entry that starts homelab-agent's own server (a reused Claude Desktop file lists it) is left
    out: the agent would offer itself as a tool, and start itself again for every question.
    """
    async with anyio.create_task_group() as tg:
        toolsets: list[Toolset] = list(extra_toolsets)
        for name, server in config.mcpServers.items():
            if server.serves_this_agent():
                log.info("mcp.skip_self", server=name)
            elif not server.disabled:
                mcp = MCPToolset(name, tg, settings=server)
                toolsets.append(FilteredToolset(mcp, allow=server.allow, deny=server.deny))
        toolbox = Toolbox(toolsets, prefix=config.prefix_tools)
        try:
            yield toolbox
        finally:
            with anyio.CancelScope(shield=True):
                await toolbox.aclose()
            tg.cancel_scope.cancel()


@asynccontextmanager
async def open_agent(
    config: Config,
    *,
    model: Model | Policy | None = None,
    extra_toolsets: Sequence[Toolset] = (),
) -> AsyncIterator[Runtime]:
    """Start the configured MCP servers and models; yield a `Runtime`; close everything after.

    `model` replaces the configured one or the router (tests pass a scripted model) and stays the
    caller's: it is not closed here, so one loaded model can serve several runtimes in turn;
    `extra_toolsets` are added beside the configured servers (tests pass in-process servers). The
    system prompt file (`agent.system_prompt`) is read here, once.

    Raises:
        ConfigError: the system prompt file cannot be read, or a model entry cannot be used.
    """
    prompt = read_prompt(config.agent.system_prompt)
    models: dict[str, Model] = {}
    owned: list[Model] = []
    if model is None:
        model, models = build_answering_model(config)
        owned = [m for m in (model, *models.values()) if not isinstance(m, Policy)]
    try:
        async with open_toolbox(config, extra_toolsets) as toolbox:
            agent = Agent(model, toolbox, config.agent, system_prompt=prompt)
            if not models and not isinstance(model, Policy):
                models = {model.name: model}
            yield Runtime(agent, toolbox, models)
    finally:
        with anyio.CancelScope(shield=True):
            for m in {id(m): m for m in owned}.values():
                await m.aclose()
