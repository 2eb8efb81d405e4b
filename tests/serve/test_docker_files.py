"""The Docker files, checked statically (no Docker engine in CI): services, GPU, health, the read-only
socket proxy, no secrets, a compose file that interpolates with the shipped .env.example, and commands
the real CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from agent.cli import main
from agent.config import load_config
from agent.exceptions import ConfigError
from agent.models.catalog import KNOWN_MODELS
from agent.serve.auth import check_bind

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "tests" / "tools" / "kanboard" / "data" / "NOTES.md"
SECRET_NAMES = ("HOMELAB_AGENT_TOKEN", "KANBOARD_TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_runs_the_kanboard_release_the_tools_are_tested_against_with_persistent_volumes(
    compose: dict[str, Any],
) -> None:
    kanboard = compose["services"]["kanboard"]
    recorded = re.search(r"recorded from a real Kanboard\s+(\d+\.\d+\.\d+)", NOTES.read_text())
    assert recorded is not None
    assert kanboard["image"] == f"kanboard/kanboard:v{recorded.group(1)}" == "kanboard/kanboard:v1.2.53"
    assert set(kanboard["volumes"]) == {
        "kanboard_data:/var/www/app/data",
        "kanboard_plugins:/var/www/app/plugins",
    }
    assert {"kanboard_data", "kanboard_plugins", "models"} <= set(compose["volumes"])


def test_kanboard_is_bound_to_loopback_and_the_agent_to_every_interface(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kanboard"]["ports"] == ["127.0.0.1:${KANBOARD_PORT:-8080}:80"]
    for name in ("agent", "agent-cpu"):
        assert services[name]["ports"] == ["0.0.0.0:${HOMELAB_AGENT_PORT:-8765}:8765"]


def test_the_gpu_agent_reserves_an_nvidia_gpu_and_the_cpu_agent_is_a_profile(compose: dict[str, Any]) -> None:
    gpu, cpu = compose["services"]["agent"], compose["services"]["agent-cpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
    assert gpu["profiles"] == ["gpu"] and gpu["build"]["args"]["VARIANT"] == "cuda"
    assert cpu["profiles"] == ["cpu"] and cpu["build"]["args"]["VARIANT"] == "cpu"
    assert "deploy" not in cpu


def test_every_service_has_a_healthcheck_and_the_agents_check_healthz(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
    for name in ("agent", "agent-cpu", "agent-remote"):
        service = compose["services"][name]
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert "models:/models" in service["volumes"]
        assert service["depends_on"]["kanboard"]["condition"] == "service_healthy"


def test_secrets_come_from_the_environment_and_the_agent_not_compose_requires_them(
    compose: dict[str, Any],
) -> None:
    for name in ("agent", "agent-cpu", "agent-remote"):
        env = compose["services"][name]["environment"]
        for secret in SECRET_NAMES:
            assert env[secret] == "${" + secret + ":-}", secret
    # the agent refuses to start with the token .env.example leaves empty
    config = load_config(
        ROOT / "config" / "docker.toml", env={"HOMELAB_AGENT_TOKEN": "", "KANBOARD_TOKEN": ""}
    )
    token = config.serve.bearer_token.get_secret_value() if config.serve.bearer_token else None
    with pytest.raises(ConfigError, match="without a bearer token"):
        check_bind(config.serve.host, token)


_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}")


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} in every string of the parsed file."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        found = env.get(name, "")
        if op == ":?" and not found:
            raise ValueError(f"required variable {name} is missing a value: {arg}")
        return found if found or op != ":-" else arg

    if isinstance(value, str):
        return _VARIABLE.sub(one, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    return value


def _env_file(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))


@pytest.mark.parametrize("env_file", [".env.example", None])
def test_compose_interpolates_with_the_shipped_env_example_or_none_before_any_token_exists(
    env_file: str | None,
) -> None:
    env = _env_file((ROOT / env_file).read_text()) if env_file else {}
    assert env.get("HOMELAB_AGENT_TOKEN", "") == "" and env.get("KANBOARD_TOKEN", "") == ""
    rendered = _interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), env)
    assert rendered["services"]["kanboard"]["image"] == "kanboard/kanboard:v1.2.53"
    assert "${" not in str(rendered)


def _cli(args: list[str]) -> click.Context:
    """Parse `homelab-agent ARGS` with the real CLI (options, choices, arguments), running nothing."""
    command: click.Command = main
    ctx = click.Context(main, info_name="homelab-agent")
    while isinstance(command, click.Group):
        name, *args = args
        found = command.get_command(ctx, name)
        assert found is not None, f"homelab-agent has no command {name!r}"
        if not isinstance(found, click.Group):
            return found.make_context(name, args, parent=ctx)
        ctx, command = click.Context(found, info_name=name, parent=ctx), found
    raise AssertionError("unreachable")


def test_the_agent_command_in_compose_and_the_image_is_one_the_cli_accepts(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = yaml.safe_load(re.search(r"^ENTRYPOINT (.*)$", dockerfile, re.MULTILINE).group(1))  # type: ignore[union-attr]
    cmd = yaml.safe_load(re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert entrypoint == ["homelab-agent"]
    for name in ("agent", "agent-cpu", "agent-remote"):
        command = compose["services"][name]["command"]
        assert command == cmd
        ctx = _cli(command)
        assert ctx.params["transport"] == "http"


def test_every_documented_docker_compose_command_for_the_agent_parses_with_the_cli() -> None:
    docs = (ROOT / "docs" / "serving.md").read_text() + (ROOT / "README.md").read_text()
    runs = re.findall(r"docker compose run --rm (agent(?:-cpu|-remote)?) ([^#`\n]+)", docs)
    assert {service for service, _ in runs} >= {"agent", "agent-cpu"}  # both the GPU and the CPU agent
    for _, args in runs:
        words = shlex.split(args)
        ctx = _cli(words)
        if words[:2] == ["models", "pull"]:
            assert ctx.params["name"] in KNOWN_MODELS


@pytest.mark.parametrize(
    "name",
    ["docker-compose.yml", "Dockerfile", "config/docker.toml", "config/docker-remote.toml", ".env.example"],
)
def test_no_secret_values_are_baked_into_the_files(name: str) -> None:
    text = (ROOT / name).read_text()
    for secret in SECRET_NAMES:
        for line in text.splitlines():
            match = re.match(rf"\s*{secret}\s*[=:]\s*(.*)", line)
            if match:
                value = match.group(1).strip().strip('"')
                assert value == "" or value.startswith("${"), f"{name}: {line}"
    assert not re.search(r"(?i)bearer\s+[a-z0-9]{16,}", text)


def test_the_dockerfile_builds_llama_cpp_for_cuda_in_a_devel_stage_and_runs_as_a_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE)
    stages = {alias for _, alias in froms}
    assert {"build", "runtime-cuda", "runtime-cpu", "runtime"} <= stages
    assert "nvidia/cuda:${CUDA_VERSION}-devel" in text and "nvidia/cuda:${CUDA_VERSION}-runtime" in text
    assert "-DGGML_CUDA=on" in text and "-DGGML_CUDA=off" in text and "CMAKE_ARGS=" in text
    assert re.search(r"^ARG VARIANT=cuda$", text, re.MULTILINE)
    assert re.search(r"^USER agent$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*healthz", text, re.MULTILINE)
    assert froms[-1] == ("runtime-${VARIANT}", "runtime")  # the last stage is the one that ships


def test_the_container_config_is_valid_and_requires_its_tokens() -> None:
    path = ROOT / "config" / "docker.toml"
    config = load_config(path, env={"HOMELAB_AGENT_TOKEN": "t" * 32, "KANBOARD_TOKEN": "k" * 16})
    assert config.serve.host == "0.0.0.0" and config.serve.bearer_token is not None
    check_bind(config.serve.host, config.serve.bearer_token.get_secret_value())
    kanboard = config.mcpServers["kanboard"]
    assert kanboard.env["KANBOARD_URL"].get_secret_value() == "http://kanboard/"
    docker = config.mcpServers["docker"]
    assert docker.command == "homelab-agent-docker"
    assert docker.env["DOCKER_HOST"].get_secret_value() == "tcp://docker-proxy:2375"
    assert config.models_dir == "/models"
    with pytest.raises(ConfigError, match="HOMELAB_AGENT_TOKEN"):
        load_config(path, env={"KANBOARD_TOKEN": "k" * 16})


def test_the_env_example_names_every_variable_compose_needs() -> None:
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    used = {
        m.group(1) for m in _VARIABLE.finditer(str(yaml.safe_load((ROOT / "docker-compose.yml").read_text())))
    }
    assert used <= names
    assert "COMPOSE_PROFILES" in names


def test_docker_is_reached_only_through_a_pinned_socket_proxy_that_allows_reads(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["docker-proxy"]
    assert re.fullmatch(r"tecnativa/docker-socket-proxy:\d+\.\d+\.\d+", proxy["image"])
    assert proxy["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
    env = proxy["environment"]
    assert env["CONTAINERS"] == 1 and env["IMAGES"] == 1
    assert env["POST"] == 0 and env["ALLOW_START"] == env["ALLOW_STOP"] == env["ALLOW_RESTARTS"] == 0
    for section in ("EXEC", "BUILD", "VOLUMES", "NETWORKS", "SECRETS", "AUTH", "SWARM", "SYSTEM"):
        assert not env.get(section), section
    assert "ports" not in proxy and proxy["networks"] == ["docker-api"]
    assert compose["networks"]["docker-api"]["internal"] is True


def test_no_service_but_the_proxy_mounts_the_docker_socket(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name != "docker-proxy":
            assert not any("docker.sock" in str(volume) for volume in service.get("volumes", [])), name
    for name in ("agent", "agent-cpu"):
        agent = compose["services"][name]
        assert "docker-api" in agent["networks"]
        assert agent["depends_on"]["docker-proxy"]["condition"] == "service_healthy"


def test_the_example_config_lists_both_tool_servers() -> None:
    config = load_config(ROOT / "config" / "homelab-agent.example.toml", env={})
    assert config.mcpServers["kanboard"].command == "homelab-agent-kanboard"
    docker = config.mcpServers["docker"]
    assert docker.command == "homelab-agent-docker"
    assert docker.env["DOCKER_HOST"].get_secret_value() == "unix:///var/run/docker.sock"


def test_compose_has_no_top_level_name_so_docker_compose_1_29_reads_it(compose: dict[str, Any]) -> None:
    assert set(compose) <= {"x-agent", "services", "networks", "volumes"}
    assert "COMPOSE_PROJECT_NAME=homelab-agent" in (ROOT / ".env.example").read_text()


def test_the_llama_server_profile_runs_the_official_cuda_server_on_the_shared_models_volume(
    compose: dict[str, Any],
) -> None:
    env = _env_file((ROOT / ".env.example").read_text())
    server = _interpolate(compose["services"]["llama-server"], env)
    assert server["image"].startswith("ghcr.io/ggml-org/llama.cpp:server-cuda")
    assert server["profiles"] == ["llama-server"] and "ports" not in server  # only the agent reaches it
    assert "models:/models:ro" in server["volumes"]
    command = server["command"]
    model = command[command.index("--model") + 1]
    assert model == "/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert model.removeprefix("/models/") == KNOWN_MODELS["qwen2.5-coder-1.5b"].filename
    assert "--jinja" in command and command[command.index("--port") + 1] == "8080"
    devices = server["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
    assert "/health" in " ".join(server["healthcheck"]["test"])


def test_the_remote_agent_waits_for_llama_server_and_its_config_points_at_it(compose: dict[str, Any]) -> None:
    agent = compose["services"]["agent-remote"]
    assert agent["profiles"] == ["llama-server"] and "deploy" not in agent  # no GPU in the agent
    assert agent["build"]["args"]["VARIANT"] == "cpu"
    assert agent["depends_on"]["llama-server"]["condition"] == "service_healthy"
    assert agent["depends_on"]["kanboard"]["condition"] == "service_healthy"
    mounted = {v.split(":")[1]: v.split(":")[0] for v in agent["volumes"]}
    config_path = agent["environment"]["HOMELAB_AGENT_CONFIG"]
    assert mounted[config_path] == "./config/docker-remote.toml"
    config = load_config(
        ROOT / "config" / "docker-remote.toml",
        env={"HOMELAB_AGENT_TOKEN": "t" * 32, "KANBOARD_TOKEN": "k" * 16},
    )
    model = config.models[config.agent.model]
    assert model.backend == "openai" and model.url == "http://llama-server:8080/v1"
    assert model.constraint == "grammar"
    assert "agent-remote" in config.serve.allowed_hosts
    assert (
        config.mcpServers.keys()
        == load_config(
            ROOT / "config" / "docker.toml", env={"HOMELAB_AGENT_TOKEN": "t" * 32, "KANBOARD_TOKEN": "k" * 16}
        ).mcpServers.keys()
    )
