"""What the tools know about containers and images, parsed from the Engine API's JSON.

Plain frozen dataclasses with only the fields the tools show. Environment variables keep their
names in the open and their values as `SecretStr`, so a repr or a log line never shows them;
`Container.set_values` hands the values the container sets itself (not its image's defaults) to
the redaction. Timestamps are timezone-aware UTC; Docker's "0001-01-01T00:00:00Z" (never) is None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

__all__ = ["Container", "HealthCheck", "Image", "Mount", "Port", "Usage", "parse_time"]

_COMPOSE = "com.docker.compose."
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object) -> datetime | None:
    """A Docker timestamp (RFC 3339 with nanoseconds, or Unix seconds) as UTC; None for none."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Port:
    """A published port: host address and port, and the container's port/protocol."""

    host_ip: str
    host_port: str
    container_port: str  # "80/tcp"

    def __str__(self) -> str:
        host = "" if self.host_ip in {"", "0.0.0.0", "::"} else f"{self.host_ip}:"
        return f"{host}{self.host_port}->{self.container_port}"


@dataclass(frozen=True)
class Mount:
    """A volume, bind mount or tmpfs."""

    kind: str  # volume, bind, tmpfs...
    source: str  # the volume's name, or the host path
    destination: str
    writable: bool

    def __str__(self) -> str:
        where = f"{self.kind} {self.source} -> {self.destination}" if self.source else self.destination
        return where + ("" if self.writable else " (read-only)")


@dataclass(frozen=True)
class HealthCheck:
    """One run of a container's health check."""

    ended: datetime | None
    exit_code: int
    output: str


@dataclass(frozen=True)
class Container:
    """One container, as `GET /containers/{id}/json` describes it."""

    id: str
    name: str
    project: str  # compose project, "" when not started by compose
    service: str  # compose service, "" when not started by compose
    image: str  # the image reference it was created from
    image_id: str
    state: str  # created, running, paused, restarting, exited, dead
    health: str  # healthy, unhealthy, starting, or "" without a health check
    failing_streak: int
    health_log: tuple[HealthCheck, ...]
    restart_count: int
    restart_policy: str
    exit_code: int
    error: str
    oom_killed: bool
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    ports: tuple[Port, ...]
    mounts: tuple[Mount, ...]
    networks: tuple[str, ...]
    command: str
    tty: bool
    compose_file: str = ""
    one_off: bool = False  # a `docker compose run` container
    env: Mapping[str, SecretStr] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """How tools name it: project/service for compose containers, else the container name."""
        return f"{self.project}/{self.service}" if self.project and self.service else self.name

    @property
    def short_id(self) -> str:
        """The 12-character id `docker ps` shows."""
        return self.id[:12]

    def set_values(self, image_env: Mapping[str, str]) -> dict[str, str]:
        """The variables this container sets, other than its image's own defaults, with values."""
        values = {}
        for name, secret in self.env.items():
            value = secret.get_secret_value()
            if image_env.get(name) != value:
                values[name] = value
        return values

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> Container:
        """Parse the Engine API's container JSON."""
        config: Mapping[str, Any] = data.get("Config") or {}
        state: Mapping[str, Any] = data.get("State") or {}
        host: Mapping[str, Any] = data.get("HostConfig") or {}
        network: Mapping[str, Any] = data.get("NetworkSettings") or {}
        labels: Mapping[str, str] = config.get("Labels") or {}
        health: Mapping[str, Any] = state.get("Health") or {}
        command = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        return cls(
            id=str(data.get("Id", "")),
            name=str(data.get("Name", "")).lstrip("/"),
            project=labels.get(_COMPOSE + "project", ""),
            service=labels.get(_COMPOSE + "service", ""),
            image=str(config.get("Image", "")),
            image_id=str(data.get("Image", "")),
            state=str(state.get("Status", "")),
            health=str(health.get("Status", "")),
            failing_streak=int(health.get("FailingStreak") or 0),
            health_log=tuple(
                HealthCheck(parse_time(c.get("End")), int(c.get("ExitCode") or 0), str(c.get("Output") or ""))
                for c in health.get("Log") or []
            ),
            restart_count=int(data.get("RestartCount") or 0),
            restart_policy=str((host.get("RestartPolicy") or {}).get("Name") or "no"),
            exit_code=int(state.get("ExitCode") or 0),
            error=str(state.get("Error") or ""),
            oom_killed=bool(state.get("OOMKilled")),
            created=parse_time(data.get("Created")),
            started=parse_time(state.get("StartedAt")),
            finished=parse_time(state.get("FinishedAt")),
            ports=_ports(network.get("Ports") or host.get("PortBindings") or {}),
            mounts=tuple(
                Mount(
                    str(m.get("Type", "")),
                    str(m.get("Name") or m.get("Source") or ""),
                    str(m.get("Destination", "")),
                    bool(m.get("RW", True)),
                )
                for m in data.get("Mounts") or []
            ),
            networks=tuple(sorted((network.get("Networks") or {}).keys())),
            command=" ".join(str(part) for part in command),
            tty=bool(config.get("Tty")),
            compose_file=labels.get(_COMPOSE + "project.config_files", ""),
            one_off=labels.get(_COMPOSE + "oneoff", "").lower() == "true",
            env=_env(config.get("Env") or []),
        )


def _ports(bindings: Mapping[str, Any]) -> tuple[Port, ...]:
    """Published ports from `NetworkSettings.Ports` (running) or `HostConfig.PortBindings` (as set)."""
    ports = {
        Port(str(b.get("HostIp") or ""), str(b.get("HostPort") or ""), container_port)
        for container_port, published in bindings.items()
        for b in published or []
        if b.get("HostPort")
    }
    # Docker publishes on 0.0.0.0 and :: alike; one line says it.
    seen: set[tuple[str, str]] = set()
    unique = []
    for port in sorted(ports, key=lambda p: (p.container_port, p.host_port, p.host_ip)):
        wildcard = port.host_ip in {"", "0.0.0.0", "::"}
        if wildcard and (port.host_port, port.container_port) in seen:
            continue
        if wildcard:
            seen.add((port.host_port, port.container_port))
        unique.append(port)
    return tuple(unique)


def _env(entries: list[str]) -> dict[str, SecretStr]:
    pairs = (entry.partition("=") for entry in entries)
    return {name: SecretStr(value) for name, _, value in pairs if name}


@dataclass(frozen=True)
class Image:
    """An image: its tags, when it was built, and the environment it sets by default."""

    id: str
    tags: tuple[str, ...]
    created: datetime | None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> Image:
        """Parse the Engine API's image JSON (`GET /images/{id}/json`)."""
        config: Mapping[str, Any] = data.get("Config") or {}
        env = (entry.partition("=") for entry in config.get("Env") or [])
        return cls(
            id=str(data.get("Id", "")),
            tags=tuple(data.get("RepoTags") or ()),
            created=parse_time(data.get("Created")),
            env={name: value for name, _, value in env if name},
        )


@dataclass(frozen=True)
class Usage:
    """A CPU and memory snapshot of one running container."""

    cpu_percent: float  # of one CPU: 200.0 is two CPUs busy
    memory: int  # bytes in use, page cache excluded (as `docker stats` counts)
    memory_limit: int  # bytes: the container's limit, or the host's memory without one
    cpus: int  # CPUs the container sees

    @classmethod
    def from_stats(cls, data: Mapping[str, Any]) -> Usage:
        """Parse `GET /containers/{id}/stats?stream=false` (two samples about a second apart)."""
        cpu: Mapping[str, Any] = data.get("cpu_stats") or {}
        pre: Mapping[str, Any] = data.get("precpu_stats") or {}
        cpus = int(cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1)
        used = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get(
            "total_usage", 0
        )
        system = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
        percent = used / system * cpus * 100 if used > 0 and system > 0 else 0.0
        memory: Mapping[str, Any] = data.get("memory_stats") or {}
        stats: Mapping[str, Any] = memory.get("stats") or {}
        cache = stats.get("total_inactive_file", stats.get("inactive_file", 0))  # cgroup v1, v2
        in_use = max(0, int(memory.get("usage") or 0) - int(cache or 0))
        return cls(round(percent, 1), in_use, int(memory.get("limit") or 0), cpus)
