"""How to reach Kanboard: URL, credentials, timeout, and whether write tools exist.

Only the entry point (`__main__`) reads the environment, through `KanboardSettings.from_env`;
everything else receives a settings object. Secrets are `SecretStr`, so they never show in a repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["APP_USER", "KanboardSettings"]

APP_USER = "jsonrpc"  # the user name Kanboard's application API expects with the API token


class KanboardSettings(BaseModel):
    """Connection settings for one Kanboard."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str | None = None  # Kanboard base URL or its /jsonrpc.php; None = the built-in demo board
    username: str = APP_USER  # "jsonrpc" for the API token, else a Kanboard user name
    secret: SecretStr | None = None  # the API token (username "jsonrpc"), or the user's password/token
    enable_writes: bool = False  # offer the write tools (create, update, move, close, comment...)
    timeout: float = Field(default=10.0, gt=0)  # seconds per HTTP request
    # the board's project, people and column names in the tool schemas: "enum" (a constrained model
    # can only write real names), "list" (named in the parameter's description) or "off"
    names: Literal["enum", "list", "off"] = "enum"
    index_ttl_s: float = Field(
        default=20.0, ge=0
    )  # KANBOARD_INDEX_TTL: how long a read of the board is reused
    # after `index_ttl_s` the index is refreshed: every task's row, and the comments, subtasks, tags
    # and links only of tasks whose date_modification moved; it is read in full this often, since
    # a new comment or subtask does not move date_modification in Kanboard (KANBOARD_INDEX_FULL)
    index_full_s: float = Field(default=300.0, ge=0)

    @field_validator("url")
    @classmethod
    def _plain_http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("KANBOARD_URL must be an http:// or https:// URL, e.g. http://kanboard.lan")
        if parts.username or parts.password:
            raise ValueError("KANBOARD_URL must not contain credentials: use KANBOARD_TOKEN instead")
        return url

    @model_validator(mode="after")
    def _secret_when_url(self) -> KanboardSettings:
        if self.url is not None and self.secret is None:
            raise ValueError(
                "KANBOARD_URL is set but no credentials: set KANBOARD_TOKEN (Settings > API in Kanboard) "
                "or KANBOARD_USERNAME and KANBOARD_PASSWORD"
            )
        return self

    @property
    def is_demo(self) -> bool:
        """True when no URL is configured and the built-in demo board stands in."""
        return self.url is None

    @property
    def endpoint(self) -> str:
        """The JSON-RPC endpoint: `url` with `/jsonrpc.php` appended unless it is already there."""
        url = (self.url or "").rstrip("/")
        return url if url.endswith("/jsonrpc.php") else f"{url}/jsonrpc.php"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KanboardSettings:
        """Settings from KANBOARD_URL, KANBOARD_TOKEN or KANBOARD_USERNAME + KANBOARD_PASSWORD,
        KANBOARD_ENABLE_WRITES, KANBOARD_TIMEOUT, KANBOARD_NAMES (enum, list or off),
        KANBOARD_INDEX_TTL and KANBOARD_INDEX_FULL (seconds); an unset or empty one keeps its default."""
        username = env.get("KANBOARD_USERNAME", "").strip()
        secret = env.get("KANBOARD_PASSWORD") if username else env.get("KANBOARD_TOKEN")
        seconds = {
            field: float(value)
            for field, name in (
                ("timeout", "KANBOARD_TIMEOUT"),
                ("index_ttl_s", "KANBOARD_INDEX_TTL"),
                ("index_full_s", "KANBOARD_INDEX_FULL"),
            )
            if (value := env.get(name, "").strip())
        }
        return cls(
            url=env.get("KANBOARD_URL", "").strip() or None,
            username=username or APP_USER,
            secret=SecretStr(secret) if secret else None,
            enable_writes=env.get("KANBOARD_ENABLE_WRITES", "").strip().lower() in {"1", "true", "yes", "on"},
            names=env.get("KANBOARD_NAMES", "").strip().lower() or "enum",  # type: ignore[arg-type]
            **seconds,
        )
