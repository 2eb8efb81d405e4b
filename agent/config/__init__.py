"""The config file: pydantic models with `extra="forbid"`, loaded once at the edge.

One module per job, re-exported here:

- `schema`: the models and the rules between their keys (a config that loads is one that runs)
- `load`: finding, reading and validating a file (`load_config`)
- `expand`: `${ENV_VAR}`, `${ENV_VAR:-default}` and `${file:/path}` in strings, read at load time
- `removed`: keys of earlier versions and why they went
- `errors`: the text of a `ConfigError` for a config that fails validation
- `secrets`: every secret a loaded config holds, for redaction

Nothing deeper in the code reads the environment. Editing a config file's text is
`agent.config_file`'s job.
"""

from __future__ import annotations

from agent.config.load import DEFAULT_CONFIG_PATHS, find_config, load_config
from agent.config.schema import (
    AgentSettings,
    Config,
    LoggingSettings,
    PrefixCacheSettings,
    RouterSettings,
    ServerSettings,
    ServeSettings,
)
from agent.config.secrets import secret_values

__all__ = [
    "DEFAULT_CONFIG_PATHS",
    "AgentSettings",
    "Config",
    "LoggingSettings",
    "PrefixCacheSettings",
    "RouterSettings",
    "ServeSettings",
    "ServerSettings",
    "find_config",
    "load_config",
    "secret_values",
]
