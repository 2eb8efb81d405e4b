"""The agent as an MCP server: an `ask` tool, and optionally the agent's own tools re-exported.

`ask(question, session_id?)` answers through `Service.answer`, reporting one progress notification
per agent step and returning the answer as text plus a structured trace. Write tools the agent calls
are approved through MCP elicitation when the client can be asked, else by `serve.allow_writes`.
With `serve.reexport_tools` the toolbox's tools are listed beside `ask` under the same names,
schemas and annotations, and calls are forwarded as they are (the client does its own approving).
Transports (stdio, streamable HTTP) are chosen by the caller: see `agent.cli.serve`, `agent.serve.http`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import structlog
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as MCPToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool
from pydantic import BaseModel, Field

from agent.exceptions import HomelabAgentError
from agent.messages import ToolSpec, Usage
from agent.serve.approval import Approver
from agent.serve.queue import QueueFullError
from agent.serve.service import Service
from agent.trace import Step

__all__ = ["AskResult", "WriteApproval", "build_mcp_server"]

log = structlog.get_logger(__name__)

INSTRUCTIONS = (
    "homelab-agent answers questions about the user's self-hosted tools (Kanboard and other MCP "
    "servers) with a local model. Call `ask` with a plain question; pass the returned session_id "
    "to ask a follow-up in the same conversation."
)


class AskResult(BaseModel):
    """The structured result of `ask`."""

    answer: str
    session_id: str = Field(description="Pass it back to ask a follow-up in the same conversation")
    steps: list[Step]
    usage: Usage
    duration_s: float


class WriteApproval(BaseModel):
    """The form a client shows before a write tool runs."""

    approve: bool = Field(description="Run this tool now?")


def _elicit_approver(ctx: Context[Any, Any], fallback: bool) -> Approver | None:
    """Ask the client's user before each write, or None when the client cannot be asked."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return None

    async def approve(tool: ToolSpec, arguments: dict[str, Any]) -> bool:
        args = json.dumps(arguments, ensure_ascii=False)
        message = f"The agent wants to run {tool.name}({args}), which can change data. Allow it?"
        try:
            answer = await ctx.elicit(message, WriteApproval)
        except Exception as exc:  # no back-channel on this connection: fall back to the config
            log.info("tool.approval.unavailable", tool=tool.name, error=type(exc).__name__, fallback=fallback)
            return fallback
        return answer.action == "accept" and answer.data.approve

    return approve


def _as_mcp_tool(spec: ToolSpec) -> MCPTool:
    annotations = None
    if spec.read_only is not None or spec.destructive is not None:
        annotations = ToolAnnotations(read_only_hint=spec.read_only, destructive_hint=spec.destructive)
    return MCPTool(
        name=spec.name, description=spec.description, input_schema=spec.parameters, annotations=annotations
    )


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
        """Forward a re-exported tool to the toolbox; anything else is ours."""
        if name not in {s.name for s in await self._reexported()}:
            return await super().call_tool(name, arguments, context)
        try:
            result = await self.service.runtime.toolbox.call_tool(name, arguments)
        except HomelabAgentError as exc:
            self.service.metrics.tool_calls.labels(name, "error").inc()
            raise MCPToolError(str(exc)) from None
        self.service.metrics.tool_calls.labels(name, "error" if result.is_error else "ok").inc()
        return CallToolResult(
            content=[TextContent(type="text", text=result.text)],
            structured_content=result.structured,
            is_error=result.is_error,
        )


def build_mcp_server(service: Service) -> AgentMCPServer:
    """The MCP server for `service`: the `ask` tool (and re-exported tools if configured)."""
    server = AgentMCPServer(service, name="homelab-agent", instructions=INSTRUCTIONS)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False))
    async def ask(
        question: str, ctx: Context[Any, Any], session_id: str | None = None
    ) -> Annotated[CallToolResult, AskResult]:
        """Ask the homelab agent a question about your self-hosted tools; it looks things up and answers.

        Pass the session_id of an earlier answer to ask a follow-up in the same conversation.
        """
        served = service.sessions.get(session_id)

        async def progress(step: Step) -> None:
            calls = ", ".join(c.name for c in step.tool_calls)
            await ctx.report_progress(step.index, None, f"step {step.index}: " + (calls or "answering"))

        approve = _elicit_approver(ctx, service.settings.allow_writes)
        try:
            result = await service.answer(question, session=served, on_step=progress, approve=approve)
        except (QueueFullError, HomelabAgentError) as exc:
            raise MCPToolError(str(exc)) from None
        structured = AskResult(
            answer=result.answer,
            session_id=served.id,
            steps=result.steps,
            usage=result.usage,
            duration_s=result.duration_s,
        )
        return CallToolResult(
            content=[TextContent(type="text", text=result.answer)],
            structured_content=structured.model_dump(mode="json"),
        )

    return server
