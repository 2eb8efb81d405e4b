"""Where the Docker Engine is, and how much of a container's log one answer may hold.

Only the entry point (`__main__`) reads the environment, through `DockerSettings.from_env`;
everything else receives a settings object. There are no credentials: a unix socket is guarded by
file permissions, and a `tcp://` address should be a read-only socket proxy on a private network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_HOST", "DockerSettings"]

DEFAULT_HOST = "unix:///var/run/docker.sock"


class DockerSettings(BaseModel):
    """How to reach one Docker Engine, and the limits of what a tool shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = DEFAULT_HOST  # DOCKER_HOST: unix:///path/to/docker.sock, or tcp://HOST:PORT (a socket proxy)
    timeout: float = Field(default=10.0, gt=0)  # seconds per request (a CPU/memory sample takes ~1 s)
    log_lines: int = Field(default=30, ge=1)  # DOCKER_LOG_LINES: log lines when the model asks for none
    max_log_lines: int = Field(default=200, ge=1)  # DOCKER_MAX_LOG_LINES: most log lines one answer shows
    max_log_chars: int = Field(default=4000, ge=200)  # DOCKER_MAX_LOG_CHARS: most characters of log text
    # how long a check that the engine answers is trusted: a listing of the tools within this time
    # reuses it (an engine that is not reachable lists no tools: see `server`); DOCKER_REACHABLE_TTL
    reachable_ttl_s: float = Field(default=15.0, ge=0)

    @field_validator("host")
    @classmethod
    def _supported_host(cls, host: str) -> str:
        parts = urlsplit(host)
        if parts.scheme == "unix" and parts.path:
            return host
        if parts.scheme in {"tcp", "http"} and parts.hostname and parts.port:
            return host
        raise ValueError(
            f"DOCKER_HOST={host!r} is not supported: use unix:///var/run/docker.sock or "
            "tcp://HOST:PORT (a socket proxy such as tcp://docker-proxy:2375)"
        )

    @property
    def socket_path(self) -> str | None:
        """The unix socket's path, or None for a tcp address."""
        parts = urlsplit(self.host)
        return parts.path if parts.scheme == "unix" else None

    @property
    def base_url(self) -> str:
        """The HTTP base URL requests go to (a placeholder host for a unix socket)."""
        parts = urlsplit(self.host)
        return "http://docker" if parts.scheme == "unix" else f"http://{parts.hostname}:{parts.port}"

    @property
    def where(self) -> str:
        """The address in words, for messages: the socket path or host:port."""
        parts = urlsplit(self.host)
        return parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DockerSettings:
        """Settings from DOCKER_HOST, DOCKER_TIMEOUT, DOCKER_LOG_LINES, DOCKER_MAX_LOG_LINES,
        DOCKER_MAX_LOG_CHARS and DOCKER_REACHABLE_TTL (an unset or empty one keeps its default);
        DOCKER_TLS_VERIFY is refused."""
        if env.get("DOCKER_TLS_VERIFY", "").strip() not in {"", "0"}:
            raise ValueError(
                "DOCKER_TLS_VERIFY is set, but TLS to the Docker daemon is not supported: "
                "use the unix socket or a read-only socket proxy on a private network"
            )
        numbers: dict[str, Any] = {
            field: convert(value)
            for field, name, convert in (
                ("timeout", "DOCKER_TIMEOUT", float),
                ("log_lines", "DOCKER_LOG_LINES", int),
                ("max_log_lines", "DOCKER_MAX_LOG_LINES", int),
                ("max_log_chars", "DOCKER_MAX_LOG_CHARS", int),
                ("reachable_ttl_s", "DOCKER_REACHABLE_TTL", float),
            )
            if (value := env.get(name, "").strip())
        }
        return cls(host=env.get("DOCKER_HOST", "").strip() or DEFAULT_HOST, **numbers)
