"""The agent as an MCP server: an `ask` tool, and optionally the agent's own tools re-exported.

`ask(question, session_id?)` answers through `Service.answer`, reporting one progress notification
per agent step and returning the answer as text plus a structured trace. With `serve.reexport_tools`
the toolbox's tools are listed beside `ask` under the same names, schemas and annotations, and
called through `Service.call_tool`. Either way a write is approved the same way, on every protocol
version (`agent.serve.asking`): the client's user is asked when the client can be asked, else
`serve.allow_writes` decides, and a refusal says why. Conversations belong to the connection that
started them (`agent.serve.sessions`). Transports (stdio, streamable HTTP) are chosen by the
caller: see `agent.cli.serve`, `agent.serve.http`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, TypeVar

import anyio
import structlog
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as MCPToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool
from pydantic import BaseModel, Field

from agent.exceptions import HomelabAgentError
from agent.messages import ToolResult, ToolSpec, Usage
from agent.serve.approval import Approver
from agent.serve.asking import ParkedCalls, WriteApproval, can_elicit, elicit_approver, input_rounds
from agent.serve.queue import QueueFullError
from agent.serve.service import Service
from agent.serve.sessions import UnknownSessionError
from agent.trace import RunResult, Step
from homelab_common.redact import redact_urls

__all__ = ["AskResult", "WriteApproval", "build_mcp_server", "server_version"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

INSTRUCTIONS = (
    "homelab-agent answers questions about the user's self-hosted tools (Kanboard and other MCP "
    "servers) with a local model. Call `ask` with a plain question; pass the returned session_id "
    "to ask a follow-up in the same conversation."
)

ASK_DESCRIPTION = inspect.cleandoc(
    """
    Ask the homelab agent a question about your self-hosted tools; it looks things up and answers.

    Pass the session_id of an earlier answer to ask a follow-up in the same conversation.
    """
)

Parked = ParkedCalls[Any, Context[Any, Any]]
Work = Callable[[Approver, Callable[[], Context[Any, Any]]], Awaitable[T]]


def server_version() -> str:
    """This package's version, for `serverInfo.version`."""
    try:
        return version("homelab-agent")
    except PackageNotFoundError:  # pragma: no cover (running from a checkout that was never installed)
        return "0+unknown"


class AskResult(BaseModel):
    """The structured result of `ask`."""

    answer: str
    session_id: str = Field(description="Pass it back to ask a follow-up in the same conversation")
    steps: list[Step]
    usage: Usage
    duration_s: float


def _owner(ctx: Context[Any, Any]) -> str:
    """Who a conversation belongs to: this MCP connection, or (stateless HTTP) the token holder."""
    headers = ctx.headers
    if headers is None:
        return "local"  # stdio, or in process: the one client that started this server
    if input_rounds(ctx):
        return "http"  # 2026-07-28 requests have no connection (and their session header is unchecked)
    session = headers.get("mcp-session-id")  # the MCP library routed the request by it: a real session
    return f"mcp:{session}" if session else "http"


def _as_mcp_tool(spec: ToolSpec) -> MCPTool:
    annotations = None
    if spec.read_only is not None or spec.destructive is not None:
        annotations = ToolAnnotations(read_only_hint=spec.read_only, destructive_hint=spec.destructive)
    return MCPTool(
        name=spec.name, description=spec.description, input_schema=spec.parameters, annotations=annotations
    )


def _tool_result(result: ToolResult) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=result.text)],
        structured_content=result.structured,
        is_error=result.is_error,
    )


async def _approved(ctx: Context[Any, Any], service: Service, work: Work[T]) -> T | InputRequiredResult:
    """Run `work` with the approver this request allows: ask the user if possible, else the config."""
    parked: Parked = ctx.request_context.lifespan_context
    if ctx.request_state is not None:  # a 2026-07-28 retry carrying the user's answer
        return await parked.resume(ctx.request_state, ctx.input_responses, ctx)  # type: ignore[no-any-return]
    if not can_elicit(ctx):
        return await work(service.config_approver, lambda: ctx)
    if input_rounds(ctx):
        return await parked.start(work, ctx)  # type: ignore[no-any-return]
    return await work(elicit_approver(ctx, service.settings.allow_writes), lambda: ctx)


async def _report(current: Callable[[], Context[Any, Any]], step: Step) -> None:
    calls = ", ".join(c.name for c in step.tool_calls)
    try:
        await current().report_progress(step.index, None, f"step {step.index}: " + (calls or "answering"))
    except Exception as exc:  # a round whose request has ended: progress is a courtesy
        log.debug("mcp.progress_lost", error=type(exc).__name__)


class AgentMCPServer(MCPServer[Parked]):
    """An `MCPServer` that can also list and forward the agent's own tools."""

    def __init__(self, service: Service, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service

    async def _reexported(self) -> list[ToolSpec]:
        if not self.service.settings.reexport_tools:
            return []
        return await self.service.runtime.toolbox.list_tools()

    async def list_tools(self) -> list[MCPTool]:
        """`ask`, then the re-exported tools."""
        return [*await super().list_tools(), *(_as_mcp_tool(s) for s in await self._reexported())]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a re-exported tool through the service; anything else is ours."""
        if name not in {s.name for s in await self._reexported()}:
            return await super().call_tool(name, arguments, context)
        assert context is not None

        async def work(approve: Approver, current: Callable[[], Context[Any, Any]]) -> ToolResult:
            return await self.service.call_tool(name, arguments, approve)

        try:
            result = await _approved(context, self.service, work)
        except (QueueFullError, HomelabAgentError) as exc:
            raise MCPToolError(redact_urls(str(exc))) from None
        return result if isinstance(result, InputRequiredResult) else _tool_result(result)


def build_mcp_server(service: Service) -> AgentMCPServer:
    """The MCP server for `service`: the `ask` tool (and re-exported tools if configured)."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[Parked]) -> AsyncIterator[Parked]:
        async with anyio.create_task_group() as tg:
            yield ParkedCalls(tg, service.settings.approval_timeout_s)
            tg.cancel_scope.cancel()  # calls still waiting for an answer end with the server

    server = AgentMCPServer(
        service,
        name="homelab-agent",
        version=server_version(),
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
    )

    @server.tool(
        description=ASK_DESCRIPTION, annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False)
    )
    async def ask(
        question: str, ctx: Context[Parked, Any], session_id: str | None = None
    ) -> Annotated[CallToolResult, AskResult] | InputRequiredResult:
        limit = service.settings.max_history_bytes
        if len(question.encode()) > limit:
            raise MCPToolError(f"the question is longer than {limit} bytes (serve.max_history_bytes)")
        try:
            served = None if ctx.request_state is not None else service.sessions.open(session_id, _owner(ctx))
        except UnknownSessionError as exc:
            raise MCPToolError(str(exc)) from None

        async def work(approve: Approver, current: Callable[[], Context[Any, Any]]) -> CallToolResult:
            assert served is not None
            result = await service.answer(
                question, session=served, on_step=lambda step: _report(current, step), approve=approve
            )
            return _ask_result(result, served.id)

        try:
            return await _approved(ctx, service, work)
        except (QueueFullError, HomelabAgentError) as exc:
            raise MCPToolError(redact_urls(str(exc))) from None

    return server


def _ask_result(result: RunResult, session_id: str) -> CallToolResult:
    structured = AskResult(
        answer=result.answer,
        session_id=session_id,
        steps=result.steps,
        usage=result.usage,
        duration_s=result.duration_s,
    )
    return CallToolResult(
        content=[TextContent(type="text", text=result.answer)],
        structured_content=structured.model_dump(mode="json"),
    )
