"""The agent as an MCP server: an `ask` tool, and optionally the agent's own tools re-exported.

`ask(question, session_id?)` answers through `Service.answer`, reporting one progress notification
per agent step and returning the answer as text plus a structured trace. With `serve.reexport_tools`
the toolbox's tools are listed beside `ask` under the same names, schemas and annotations, and
called through `Service.call_tool`. Either way a write is approved the same way, on every protocol
version (`agent.serve.approval`): when the client's user can be asked, the run (or the call) ends
waiting, is parked in the store, and resumes once the user has answered (`agent.serve.asking`);
otherwise `serve.allow_writes` decides, and a refusal says why. Conversations belong to the
connection that started them, or on stateless HTTP to the token holder (`agent.serve.sessions`).
Transports (stdio, streamable HTTP) are chosen by the
caller: see `agent.cli.serve`, `agent.serve.http`.
"""

from __future__ import annotations

import inspect
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import structlog
from mcp.server.mcpserver import Context, MCPServer, RequestStateSecurity
from mcp.server.mcpserver.exceptions import ToolError as MCPToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool
from pydantic import BaseModel, Field

from agent.exceptions import CallDeferred, HomelabAgentError
from agent.messages import ToolCall, ToolResult, ToolSpec, Usage
from agent.serve.asking import (
    WriteApproval,
    can_elicit,
    decisions_from,
    elicit_decisions,
    input_required,
    input_rounds,
)
from agent.serve.pending import NotPendingError, Pending, caller
from agent.serve.queue import QueueFullError
from agent.serve.service import Service
from agent.serve.sessions import UnknownSessionError
from agent.trace import RunResult, Step
from homelab_common.redact import redact_urls

__all__ = ["AskResult", "WriteApproval", "build_mcp_server", "server_version"]

log = structlog.get_logger(__name__)

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

REFUSED = (QueueFullError, HomelabAgentError, NotPendingError, UnknownSessionError)
"""What a tool call answers as its error, in words."""


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
    scheme, _, token = headers.get("authorization", "").partition(" ")
    holder = caller(token if scheme.lower() == "bearer" else None)
    if input_rounds(ctx):
        return holder  # 2026-07-28 requests have no connection (and their session header is unchecked)
    session = headers.get("mcp-session-id")  # the MCP library routed the request by it: a real session
    return f"mcp:{session}" if session else holder


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


Outcome = RunResult | ToolResult


async def _report(ctx: Context[Any, Any], step: Step) -> None:
    calls = ", ".join(c.name for c in step.tool_calls)
    try:
        await ctx.report_progress(step.index, None, f"step {step.index}: " + (calls or "answering"))
    except Exception as exc:  # progress is a courtesy
        log.debug("mcp.progress_lost", error=type(exc).__name__)


async def _resumed(
    ctx: Context[Any, Any], service: Service, pending: Pending
) -> Outcome | InputRequiredResult:
    """A 2026-07-28 retry: the claimed run or call goes on with the answers it carries."""
    decisions = decisions_from(pending, ctx.input_responses)
    if decisions is None:  # retried without every answer: ask again
        await service.pending.again(pending)
        return input_required(pending)
    return await service.resume(pending, decisions, on_step=lambda step: _report(ctx, step))


async def _until_decided(
    ctx: Context[Any, Any], service: Service, owner: str, outcome: Outcome, session_id: str | None
) -> Outcome | InputRequiredResult:
    """While `outcome` is a paused run: park it and ask the user, then resume it with the answers."""
    while isinstance(outcome, RunResult) and outcome.paused is not None:
        pending = await service.park(owner, result=outcome, session_id=session_id)
        if input_rounds(ctx):
            return input_required(pending)
        settings = service.settings
        decisions = await elicit_decisions(
            ctx, pending.calls, settings.approval_timeout_s, settings.allow_writes
        )
        claimed = await service.pending.claim(pending.ref, owner)
        outcome = await service.resume(claimed, decisions, on_step=lambda step: _report(ctx, step))
    return outcome


class AgentMCPServer(MCPServer[Any]):
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
        service, owner = self.service, _owner(context)
        try:
            outcome: Outcome | InputRequiredResult
            if context.request_state is not None:  # a 2026-07-28 retry carrying the user's answer
                outcome = await _resumed(
                    context, service, await service.pending.claim(context.request_state, owner)
                )
            else:
                try:
                    outcome = await service.call_tool(
                        name, arguments, service.approver("elicitation" if can_elicit(context) else "none")
                    )
                except CallDeferred:
                    pending = await service.park(owner, call=ToolCall(name=name, arguments=arguments))
                    if input_rounds(context):
                        return input_required(pending)
                    settings = service.settings
                    decisions = await elicit_decisions(
                        context, pending.calls, settings.approval_timeout_s, settings.allow_writes
                    )
                    outcome = await service.resume(await service.pending.claim(pending.ref, owner), decisions)
        except REFUSED as exc:
            raise MCPToolError(redact_urls(str(exc))) from None
        if isinstance(outcome, InputRequiredResult):
            return outcome
        assert isinstance(outcome, ToolResult)
        return _tool_result(outcome)


def build_mcp_server(service: Service) -> AgentMCPServer:
    """The MCP server for `service`: the `ask` tool (and re-exported tools if configured)."""
    # the 2026-07-28 requestState is sealed with a key every replica (and a restarted one) shares
    sealed = RequestStateSecurity(
        keys=[service.store.secret("mcp-request-state")], ttl=service.settings.approval_timeout_s + 60
    )
    server = AgentMCPServer(
        service,
        name="homelab-agent",
        version=server_version(),
        instructions=INSTRUCTIONS,
        request_state_security=sealed,
    )

    @server.tool(
        description=ASK_DESCRIPTION, annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False)
    )
    async def ask(
        question: str, ctx: Context[Any, Any], session_id: str | None = None
    ) -> Annotated[CallToolResult, AskResult] | InputRequiredResult:
        limit = service.settings.max_history_bytes
        if len(question.encode()) > limit:
            raise MCPToolError(f"the question is longer than {limit} bytes (serve.max_history_bytes)")
        owner = _owner(ctx)
        try:
            outcome: Outcome | InputRequiredResult
            if ctx.request_state is not None:  # a 2026-07-28 retry carrying the user's answer
                pending = await service.pending.claim(ctx.request_state, owner)
                sid = pending.session_id
                outcome = await _resumed(ctx, service, pending)
            else:
                served = await service.sessions.open(session_id, owner)
                sid = served.id
                outcome = await service.answer(
                    question,
                    session=served,
                    on_step=lambda step: _report(ctx, step),
                    approve=service.approver("elicitation" if can_elicit(ctx) else "none"),
                )
            if not isinstance(outcome, InputRequiredResult):
                outcome = await _until_decided(ctx, service, owner, outcome, sid)
        except REFUSED as exc:
            raise MCPToolError(redact_urls(str(exc))) from None
        if isinstance(outcome, InputRequiredResult):
            return outcome
        assert isinstance(outcome, RunResult) and sid is not None
        return _ask_result(outcome, sid)

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
