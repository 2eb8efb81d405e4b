"""Loading and validating the config file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

import agent.config
from agent.config import Config, load_config, secret_values
from agent.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "homelab-agent.example.toml"

# what the example sets that no code default can: the names of its own models and servers
NAMED_BY_THE_EXAMPLE = {
    "agent.model",
    "router.small",
    "router.large",
    "models.*.source",
    "mcpServers.*.command",
    "mcpServers.*.env",
}


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_config_package_exports_exactly_these_names() -> None:
    assert sorted(agent.config.__all__) == [
        "AgentSettings",
        "Config",
        "DEFAULT_CONFIG_PATHS",
        "LoggingSettings",
        "PrefixCacheSettings",
        "RouterSettings",
        "ServeSettings",
        "ServerSettings",
        "find_config",
        "load_config",
        "secret_values",
    ]
    for name in agent.config.__all__:
        assert hasattr(agent.config, name)


def test_the_example_config_checked_in_is_valid() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.agent.model in config.models
    assert config.mcpServers["kanboard"].transport == "stdio"


def test_every_value_the_example_config_writes_out_is_the_code_default() -> None:
    data, config = tomllib.loads(EXAMPLE.read_text()), load_config(EXAMPLE, env={})

    def differing(model: Any, values: dict[str, Any], where: str) -> list[str]:
        fields = type(model).model_fields
        return [
            f"{where}{key} = {value!r} (code: {fields[key].get_default(call_default_factory=True)!r})"
            for key, value in values.items()
            if f"{where}{key}" not in NAMED_BY_THE_EXAMPLE
            and fields[key].get_default(call_default_factory=True) != value
        ]

    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k not in ("models", "mcpServers")}
    found = differing(
        config, {k: v for k, v in data.items() if k not in tables and not isinstance(v, dict)}, ""
    )
    for table, values in tables.items():
        found += differing(getattr(config, table), values, f"{table}.")
    for name, values in data["models"].items():
        found += differing(config.models[name], values, "models.*.")
    for name, values in data["mcpServers"].items():
        found += differing(config.mcpServers[name], values, "mcpServers.*.")
    assert found == []


def test_the_router_routes_when_its_mode_is_not_given() -> None:
    assert Config().router.mode == "auto"


def test_an_unknown_key_fails_naming_the_file_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[agent]\nmax_stpes = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message
    assert "agent.max_stpes: unknown key" in message


def test_a_wrong_type_fails_saying_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, '[agent]\nmax_steps = "many"\n')
    with pytest.raises(ConfigError, match=r"agent.max_steps: Input should be a valid integer"):
        load_config(path, env={})


def test_a_model_reference_to_a_missing_model_fails_listing_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.small]\nsource = "x.gguf"\n[agent]\nmodel = "big"\n')
    with pytest.raises(
        ConfigError, match=r"agent.model = 'big' is not a model in \[models\] \(known: small\)"
    ):
        load_config(path, env={})


def test_the_router_without_its_large_model_fails_naming_the_key_to_set(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[models.s]\nsource = "x.gguf"\n[agent]\nmodel = "router"\n[router]\nsmall = "s"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).splitlines()[1] == (
        '  router.large is not set: agent.model = "router" needs router.small and router.large, '
        "each a model in [models] (known: s)"
    )


def test_the_router_naming_a_missing_model_fails_listing_the_known_ones(tmp_path: Path) -> None:
    text = '[models.s]\nsource = "x.gguf"\n[agent]\nmodel = "router"\n[router]\nsmall = "s"\nlarge = "nope"\n'
    with pytest.raises(
        ConfigError, match=r"router\.large = 'nope' is not a model in \[models\] \(known: s\)"
    ):
        load_config(write(tmp_path, text), env={})


def test_a_llama_cpp_key_on_an_openai_model_fails_naming_the_key_and_the_backend(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.remote]\nbackend = "openai"\nurl = "http://gpu:8080/v1"\nn_ctx = 4096\n')
    with pytest.raises(ConfigError, match=r'models\.remote\.n_ctx: not a setting of backend = "openai"'):
        load_config(path, env={})


def test_an_openai_model_without_a_url_fails_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.remote]\nbackend = "openai"\n')
    with pytest.raises(ConfigError, match=r"models\.remote\.url: Field required"):
        load_config(path, env={})


def test_a_model_without_a_backend_is_a_llama_cpp_model(tmp_path: Path) -> None:
    from agent.models.settings import LlamaSettings

    text = '[models.small]\nsource = "x.gguf"\nn_ctx = 4096\n[agent]\nmodel = "small"\n'
    config = load_config(write(tmp_path, text), env={})
    assert isinstance(config.models["small"], LlamaSettings) and config.models["small"].n_ctx == 4096


def test_a_router_key_of_an_earlier_version_is_named_with_why_it_went(tmp_path: Path) -> None:
    path = write(tmp_path, '[router]\nmode = "auto"\nmax_tools = 4\n')
    with pytest.raises(
        ConfigError, match=r"router\.max_tools: no longer a setting \(the router offers every"
    ):
        load_config(path, env={})


def test_the_prefix_cache_is_on_by_default_bounded_to_one_gib_and_strict(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={})
    assert config.prefix_cache.max_mb == 1024 and config.prefix_cache.dir.endswith("prefix-states")
    off = load_config(write(tmp_path, '[prefix_cache]\nmax_mb = 0\ndir = "/tmp/states"\n'), env={})
    assert off.prefix_cache.max_mb == 0
    with pytest.raises(ConfigError, match=r"prefix_cache.size_mb: unknown key"):
        load_config(write(tmp_path, "[prefix_cache]\nsize_mb = 10\n"), env={})


def test_speculative_decoding_is_off_by_default_and_only_a_known_kind(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[models.m]\nsource = "x.gguf"\n[agent]\nmodel = "m"\n'), env={})
    model = config.models["m"]
    assert model.backend == "llama_cpp" and model.speculative == "off"
    bad = '[models.m]\nsource = "x.gguf"\nspeculative = "draft_model"\n[agent]\nmodel = "m"\n'
    with pytest.raises(ConfigError, match=r"models.m.*speculative"):
        load_config(write(tmp_path, bad), env={})


def test_a_server_needs_exactly_one_of_command_and_url(tmp_path: Path) -> None:
    path = write(tmp_path, '[mcpServers.x]\ncommand = "a"\nurl = "http://b"\n')
    with pytest.raises(ConfigError, match=r"mcpServers\.x: Value error, give either `command`"):
        load_config(path, env={})


def test_invalid_toml_fails_with_the_parser_position(tmp_path: Path) -> None:
    path = write(tmp_path, "[agent\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})


def test_a_missing_file_fails_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_secrets_come_from_the_environment_and_never_print(tmp_path: Path) -> None:
    path = write(tmp_path, '[mcpServers.kb]\ncommand = "kb"\nenv = { KANBOARD_TOKEN = "${KB_TOKEN}" }\n')
    config = load_config(path, env={"KB_TOKEN": "s3cret-token-value"})
    server = config.mcpServers["kb"]
    assert server.env["KANBOARD_TOKEN"].get_secret_value() == "s3cret-token-value"
    assert "s3cret" not in repr(config) and "s3cret" not in str(config.model_dump())
    assert "s3cret-token-value" in secret_values(config)


def test_secrets_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    path = write(tmp_path, f'[serve]\nbearer_token = "${{file:{secret}}}"\n')
    assert load_config(path, env={}).serve.bearer_token.get_secret_value() == "from-a-file"  # type: ignore[union-attr]


def test_an_unset_variable_fails_unless_it_has_a_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[serve]\nbearer_token = "${NOPE}"\n')
    with pytest.raises(ConfigError, match=r"serve\.bearer_token: environment variable NOPE is not set"):
        load_config(path, env={})
    path = write(tmp_path, '[serve]\nhost = "${HOST:-0.0.0.0}"\n')
    assert load_config(path, env={}).serve.host == "0.0.0.0"


def test_a_claude_desktop_config_is_reused_as_it_is(tmp_path: Path) -> None:
    desktop = {
        "mcpServers": {
            "kanboard": {
                "command": "homelab-agent-kanboard",
                "args": [],
                "env": {"KANBOARD_URL": "http://kb"},
            },
            "remote": {
                "type": "http",
                "url": "https://tools.lan/mcp",
                "headers": {"Authorization": "Bearer x"},
            },
            "legacy": {"url": "https://old.lan/sse"},
        },
        "globalShortcut": "Ctrl+Space",
    }
    path = write(tmp_path, json.dumps(desktop), "claude_desktop_config.json")
    direct = load_config(path, env={})
    assert direct.mcpServers["kanboard"].transport == "stdio"
    assert direct.mcpServers["remote"].transport == "streamable-http"
    assert direct.mcpServers["legacy"].transport == "sse"
    toml = write(
        tmp_path, 'mcp_config = "claude_desktop_config.json"\n[mcpServers.extra]\nurl = "http://x/mcp"\n'
    )
    merged = load_config(toml, env={})
    assert set(merged.mcpServers) == {"kanboard", "remote", "legacy", "extra"}
