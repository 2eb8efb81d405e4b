"""The config's schema: pydantic models with `extra="forbid"`, and the rules between their keys.

A config is TOML (`config/homelab-agent.example.toml`) with `[models.*]`, `[router]`, `[agent]`,
`[prefix_cache]`, `[logging]` and `[mcpServers.*]` in the Claude Desktop format. `mcp_config` can point at an
existing `claude_desktop_config.json` whose servers are reused as they are.

Secrets are kept in `SecretStr` so they never print. Reading the file and expanding `${…}` is
`agent.config.load`'s job (before these models see the data); nothing here reads files or the
environment.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from agent.models.settings import ModelSettings

__all__ = [
    "ROUTER",
    "AgentSettings",
    "Config",
    "LoggingSettings",
    "PrefixCacheSettings",
    "RouterSettings",
    "ServeSettings",
    "ServerSettings",
]


ROUTER = "router"
"""The `agent.model` that means "the router chooses per question" (`AgentSettings.routed`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Strict):
    """One MCP server, Claude Desktop style: `command`/`args`/`env` (stdio) or `url`/`headers`."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    transport: Literal["stdio", "streamable-http", "sse"] | None = None  # inferred when omitted
    allow: list[str] | None = None  # glob patterns of tools to offer; None = all
    deny: list[str] = Field(default_factory=list)  # glob patterns of tools to hide
    timeout_s: float = Field(default=30.0, gt=0)  # per tool call
    connect_timeout_s: float = Field(default=20.0, gt=0)
    tools_ttl_s: float = Field(default=60.0, ge=0)  # list the tools again after this long (live schemas)
    disabled: bool = False
    type: str | None = None  # accepted from Claude Desktop files ("stdio", "http", "sse")

    def serves_this_agent(self) -> bool:
        """Whether this entry starts homelab-agent's own MCP server (a Claude Desktop file lists it)."""
        if self.command is None:
            return False
        words = [Path(self.command).name.lower().removesuffix(".exe"), *(a.lower() for a in self.args)]
        if "serve" not in words:
            return False
        module = any(a == "-m" and b == "agent" for a, b in itertools.pairwise(words))
        return module or "homelab-agent" in words or any(w.endswith("/homelab-agent") for w in words)

    @model_validator(mode="after")
    def _one_transport(self) -> ServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (stdio) or `url` (HTTP), not both or neither")
        if self.transport is None:
            if self.command is not None:
                self.transport = "stdio"
            elif self.type == "sse" or (self.url or "").rstrip("/").endswith("/sse"):
                self.transport = "sse"
            else:
                self.transport = "streamable-http"
        return self


class RouterSettings(_Strict):
    """The small-model router (`agent.model = "router"`): which models, and how eager to use the small one."""

    # auto (the default): the cues decide and the large model takes over when the small one slips;
    # always_small and always_large answer every question with one of them, unchecked (to measure
    # each alone)
    mode: Literal["auto", "always_small", "always_large"] = "auto"
    small: str | None = None  # answers simple lookups
    large: str | None = None  # answers the rest, and takes over when the small model fails
    # the small model answers a question whose simplicity (1 - its complexity cues, 0..1) is at
    # least this: lower sends more questions to the small model (faster), higher to the large one
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class AgentSettings(_Strict):
    """Limits of one agent run."""

    model: str = "default"  # the model (or ROUTER, "router") that answers
    max_steps: int = Field(default=8, ge=1)  # model turns before MaxStepsError
    tool_result_tokens: int = Field(default=1500, ge=50)  # longer tool results are cut
    # "tool": the first model turn of a question must call a tool (small models otherwise answer
    # from the tool descriptions instead of the data); "auto": the model decides
    first_step: Literal["tool", "auto"] = "tool"
    # a name from a server's closed list (an `enum`: projects, people, columns) may only be passed
    # when the conversation has named it (agent.grounding); small models otherwise guess one
    ground_arguments: bool = True
    # after tool results, say the question again at the end of the prompt (for that turn only):
    # small models otherwise answer the results' first line (a count) instead of the question
    restate_question: bool = True
    # answers that reuse the lookup (agent.quoting): "direct": a tool's list that answers the
    # question as asked is the answer (no model turn), else as "lead": the model writes a lead and
    # the list follows as the tool gave it; "off": the model writes every answer itself
    quote_lists: Literal["direct", "lead", "off"] = "direct"
    # a prompt file (relative paths: to the config file's folder) used instead of the packaged one;
    # "{today}" and "{timezone}" in it are filled in for each question
    system_prompt: str | None = None
    timezone: str | None = None  # for "today" in the system prompt; default: local time

    @property
    def routed(self) -> bool:
        """Whether the router answers (`model = "router"`) rather than one configured model."""
        return self.model == ROUTER


class PrefixCacheSettings(_Strict):
    """KV states of the prompt's stable prefix (system prompt, instructions, tools) kept on disk, so
    a one-shot `ask`, a restarted `serve` or a new `chat` starts warm (`agent.models.prefix_states`)."""

    dir: str = "~/.cache/homelab-agent/prefix-states"
    # the directory's size limit, least recently used files deleted first; 0 turns the cache off
    # (a state is ~28 KiB per prompt token for the 1.5B, ~12 KiB for the 0.5B)
    max_mb: int = Field(default=1024, ge=0)


class LoggingSettings(_Strict):
    """Logging to stderr."""

    level: Literal["debug", "info", "warning", "error"] = "warning"
    format: Literal["console", "json"] = "console"


class ServeSettings(_Strict):
    """`homelab-agent serve`."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    bearer_token: SecretStr | None = None  # required (24+ characters) when host is not loopback
    queue_size: int = Field(default=16, ge=1)  # waiting requests before 429
    concurrency: int = Field(default=1, ge=1)  # requests answered at once
    reexport_tools: bool = False  # also offer the underlying MCP tools (approved like the agent's calls)
    allow_writes: bool = False  # allow write tools when the client cannot be asked
    # Host names clients use beyond IP addresses, localhost and this machine's own names (DNS
    # rebinding protection); "*.lan" matches subdomains, "*" turns the check off
    allowed_hosts: list[str] = Field(default_factory=list)
    # web pages (scheme://host[:port]) allowed to call the server from a browser; pages on
    # loopback always are, every other cross-site request is refused
    allowed_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger request bodies get 413
    max_history_bytes: int = Field(default=256 * 1024, ge=1024)  # text of one conversation; more is 413
    session_memory_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # all kept MCP conversations
    approval_timeout_s: float = Field(default=300.0, gt=0)  # a write waiting for the user's answer
    # where conversations and runs waiting for approval are kept: a SQLite file (the default,
    # "~/.local/state/homelab-agent/serve.sqlite3"), ":memory:" (this process only), or a
    # redis://host:port/db URL shared by replicas (pip install 'homelab-agent[redis]')
    store: str | None = None
    # handshake-era MCP clients without MCP sessions too (2026-07-28 requests never have one): any
    # replica answers any request, conversations belong to the token holder, and such clients
    # cannot be asked mid-call (serve.allow_writes decides for them)
    stateless_mcp: bool = False


class Config(_Strict):
    """The whole configuration."""

    models: dict[str, ModelSettings] = Field(default_factory=dict)
    router: RouterSettings = Field(default_factory=RouterSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    mcp_config: str | None = None  # path of a claude_desktop_config.json to take servers from
    models_dir: str = "~/.cache/homelab-agent/models"
    prefix_cache: PrefixCacheSettings = Field(default_factory=PrefixCacheSettings)
    prefix_tools: bool = True  # name tools SERVER__TOOL
    mcpServers: dict[str, ServerSettings] = Field(default_factory=dict)  # noqa: N815 (Claude's key)

    @property
    def tools_only(self) -> bool:
        """A config that names no models (a `claude_desktop_config.json`): it lists tools, not answers."""
        return not self.models

    def used_models(self) -> list[str]:
        """The models `agent.model` answers with: one, or the router's."""
        if not self.agent.routed:
            return [self.agent.model]
        names = (self.router.small, self.router.large)
        return list(dict.fromkeys(n for n in names if n))

    @model_validator(mode="after")
    def _models_exist(self) -> Config:
        """The one check of the models a config answers with: a config that loads is one that runs."""
        if self.tools_only:
            return self
        known = ", ".join(sorted(self.models))
        refs = {"router.small": self.router.small, "router.large": self.router.large}
        if self.agent.routed:
            for key, ref in refs.items():
                if ref is None:
                    raise ValueError(
                        f'{key} is not set: agent.model = "router" needs router.small and router.large, '
                        f"each a model in [models] (known: {known})"
                    )
        else:
            refs["agent.model"] = self.agent.model
        for key, ref in refs.items():
            if ref is not None and ref not in self.models:
                raise ValueError(f"{key} = {ref!r} is not a model in [models] (known: {known})")
        return self
