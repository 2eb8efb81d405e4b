"""Find, read, expand and validate a config file, once, at the edge.

TOML, or a `claude_desktop_config.json` on its own; `mcp_config` merges a Claude Desktop file's
servers in. The rules are the schema's (`agent.config.schema`), the `${…}` expansion is
`agent.config.expand`'s and the wording of a failed validation is `agent.config.errors`'s.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.config.errors import describe
from agent.config.expand import expand_all
from agent.config.schema import Config
from agent.exceptions import ConfigError

__all__ = ["DEFAULT_CONFIG_PATHS", "find_config", "load_config"]

DEFAULT_CONFIG_PATHS = (Path("homelab-agent.toml"), Path("~/.config/homelab-agent/config.toml"))


def find_config() -> Path | None:
    """The first of `DEFAULT_CONFIG_PATHS` that exists, or None."""
    return next((p.expanduser() for p in DEFAULT_CONFIG_PATHS if p.expanduser().exists()), None)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table at the top level")
    return data


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, expand and validate a config; a `claude_desktop_config.json` works on its own too.

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    env = dict(os.environ) if env is None else env
    if path is None:
        path = find_config()
        if path is None:
            raise ConfigError(
                "no config file: pass --config PATH, or copy config/homelab-agent.example.toml "
                "to ./homelab-agent.toml"
            )
    path = Path(path).expanduser()
    data = _read(path)
    if path.suffix == ".json":  # a claude_desktop_config.json used as it is
        data = {"mcpServers": data.get("mcpServers", {})}
    base = path.parent
    if "mcp_config" in data and isinstance(data["mcp_config"], str):
        desktop = Path(data["mcp_config"]).expanduser()
        desktop = desktop if desktop.is_absolute() else base / desktop
        servers = _read(desktop).get("mcpServers", {})
        data["mcpServers"] = {**servers, **data.get("mcpServers", {})}
    try:
        data = expand_all(data, env)
        agent = data.get("agent")
        if isinstance(agent, dict) and isinstance(agent.get("system_prompt"), str):
            agent["system_prompt"] = str(base / Path(agent["system_prompt"]).expanduser())
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(path, exc)) from None
