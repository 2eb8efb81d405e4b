"""`${ENV_VAR}`, `${ENV_VAR:-default}` and `${file:/path}` in config strings, read at load time.

This is the one place that reads the environment or secret files for the config; it does not hide
the values (the schema keeps secrets in `SecretStr`) and does not validate anything else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent.exceptions import ConfigError

__all__ = ["expand", "expand_all"]

_SECRET_REF = re.compile(r"\$\{(file:)?([^}:]+)(?::-([^}]*))?\}")


def expand(value: str, env: dict[str, str], where: str) -> str:
    """`value` with every `${…}` replaced.

    Raises:
        ConfigError: naming `where` (the key), for a variable not set or a file that cannot be read.
    """

    def sub(match: re.Match[str]) -> str:
        is_file, name, default = match.group(1), match.group(2), match.group(3)
        if is_file:
            path = Path(name).expanduser()
            try:
                return path.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None
        if name not in env:
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return env[name]

    return _SECRET_REF.sub(sub, value)


def expand_all(data: Any, env: dict[str, str], where: str = "") -> Any:
    """`data` (parsed TOML or JSON) with every string expanded; `where` is the dotted key so far."""
    if isinstance(data, str):
        return expand(data, env, where)
    if isinstance(data, dict):
        return {k: expand_all(v, env, f"{where}.{k}" if where else k) for k, v in data.items()}
    if isinstance(data, list):
        return [expand_all(v, env, f"{where}[{i}]") for i, v in enumerate(data)]
    return data
