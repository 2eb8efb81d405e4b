"""The toolset interface, and the combinators that namespace and filter toolsets.

A toolset is anything with `list_tools()` and `call_tool()`: an MCP server, or one of our own
servers run in-process. `Toolbox` gathers several under per-server prefixes so two servers can
both offer `search`. Connecting to MCP servers lives in `agent.toolsets.mcp`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import structlog

from agent.exceptions import ToolError, ToolNotFoundError
from agent.messages import ToolResult, ToolSpec

__all__ = ["FilteredToolset", "Toolbox", "Toolset"]

log = structlog.get_logger(__name__)

SEPARATOR = "__"


@runtime_checkable
class Toolset(Protocol):
    """A source of tools."""

    @property
    def name(self) -> str:
        """The toolset's name: the server's key in the config."""
        ...

    async def list_tools(self) -> list[ToolSpec]:
        """The tools on offer now."""
        ...

    async def instructions(self) -> str:
        """What the server says about using its tools (MCP `instructions`), or ""."""
        ...

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one tool. Failures the model should see raise `ToolError` or return `is_error`."""
        ...

    async def aclose(self) -> None:
        """Release connections and subprocesses."""
        ...


@dataclass
class FilteredToolset:
    """Only the tools of `inner` that match `allow` (if given) and none of `deny` (glob patterns)."""

    inner: Toolset
    allow: Sequence[str] | None = None
    deny: Sequence[str] = ()

    @property
    def name(self) -> str:
        """The wrapped toolset's name."""
        return self.inner.name

    def permits(self, tool: str) -> bool:
        """Whether `tool` passes the allow and deny lists."""
        if self.allow is not None and not any(fnmatch.fnmatchcase(tool, p) for p in self.allow):
            return False
        return not any(fnmatch.fnmatchcase(tool, p) for p in self.deny)

    async def list_tools(self) -> list[ToolSpec]:
        """The permitted tools."""
        return [t for t in await self.inner.list_tools() if self.permits(t.name)]

    async def instructions(self) -> str:
        """The wrapped toolset's instructions."""
        return await self.inner.instructions()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Call a permitted tool; a denied one is reported as unknown."""
        if not self.permits(name):
            raise ToolNotFoundError(f"tool {name!r} is not enabled on server {self.name!r}")
        return await self.inner.call_tool(name, arguments)

    async def aclose(self) -> None:
        """Close the wrapped toolset."""
        await self.inner.aclose()


@dataclass
class Toolbox:
    """Several toolsets behind one name space: tool `search` of server `kb` is `kb__search`.

    With `prefix=False` tools keep their own names; a clash then raises at listing time. A server
    that cannot list its tools (down, or up without its backend: the Docker server with no
    engine) is left out (with a warning) unless every server fails, and until it lists again the
    instructions say, in its place, that it is not available and why: the model is not handed
    tools that can only fail, nor left to guess why they are missing.
    """

    toolsets: Sequence[Toolset]
    prefix: bool = True
    _routes: dict[str, tuple[Toolset, str]] = field(default_factory=dict, init=False)
    _down: dict[str, str] = field(default_factory=dict, init=False)  # server -> why it lists no tools

    @property
    def name(self) -> str:
        """A name listing the member toolsets."""
        return "+".join(t.name for t in self.toolsets)

    def qualified(self, toolset: Toolset, tool: str) -> str:
        """The name the model sees for `tool` of `toolset`."""
        return f"{toolset.name}{SEPARATOR}{tool}" if self.prefix else tool

    async def list_tools(self) -> list[ToolSpec]:
        """All tools, namespaced; remembers which toolset answers which name."""
        specs: list[ToolSpec] = []
        routes: dict[str, tuple[Toolset, str]] = {}
        failures: list[ToolError] = []
        down: dict[str, str] = {}
        for toolset in self.toolsets:
            try:
                offered = await toolset.list_tools()
            except ToolError as exc:  # one server down must not take the others with it
                log.warning("toolset.unavailable", toolset=toolset.name, error=str(exc))
                failures.append(exc)
                down[toolset.name] = str(exc)
                continue
            for spec in offered:
                qualified = self.qualified(toolset, spec.name)
                if qualified in routes:
                    raise ToolNotFoundError(
                        f"two servers offer a tool named {qualified!r}; turn on tool prefixes in the config"
                    )
                routes[qualified] = (toolset, spec.name)
                specs.append(spec.model_copy(update={"name": qualified}))
        if failures and len(failures) == len(self.toolsets):
            raise failures[0]
        self._routes, self._down = routes, down
        return specs

    async def instructions(self) -> str:
        """Each server's instructions under a heading that says how its tools are named; for a
        server the last listing left out, that it is not available and why."""
        parts = []
        for toolset in self.toolsets:
            if toolset.name in self._down:
                why = self._down[toolset.name]
                parts.append(f"## Server {toolset.name}\nNot available now, so it offers no tools: {why}")
                continue
            try:
                text = (await toolset.instructions()).strip()
            except ToolError:
                continue  # list_tools reports the server as down
            if text:
                named = f" (its tools are named {toolset.name}{SEPARATOR}TOOL)" if self.prefix else ""
                parts.append(f"## Server {toolset.name}{named}\n{text}")
        return "\n\n".join(parts)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Route `name` to its toolset."""
        if not self._routes:
            await self.list_tools()
        route = self._routes.get(name)
        if route is None:
            known = ", ".join(sorted(self._routes)) or "none"
            raise ToolNotFoundError(f"there is no tool named {name!r}; the tools are: {known}")
        toolset, tool = route
        return await toolset.call_tool(tool, arguments)

    async def aclose(self) -> None:
        """Close every member toolset."""
        for toolset in self.toolsets:
            await toolset.aclose()
