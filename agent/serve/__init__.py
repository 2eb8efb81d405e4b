"""Serving the agent: an MCP server (stdio or streamable HTTP), an OpenAI-compatible API, metrics.

    service.py      the runtime, queue, sessions and metrics every transport shares; `answer()`,
                    `chat()` (the plain model, `homelab-agent-chat`), `call_tool()`
    mcp_server.py   the `ask` tool (progress, sessions, trace) and re-exported tools
    asking.py       how an MCP client's user is asked to approve a write, on every protocol
    openai_api.py   /v1/chat/completions (streaming or not) and /v1/models
    http.py         the Starlette app and uvicorn; /healthz and /metrics
    guard.py        Host, Origin, content type and body size, before anything else
    queue.py        fair FIFO admission with a bounded line (429 when full)
    approval.py     the write-approval toolset wrapper and its decisions
    auth.py         bearer auth, the no-token-no-exposure rule, the answer to OAuth discovery
    sessions.py     conversations by server-chosen id, owned by their connection, bounded
    metrics.py      Prometheus metrics

The CLI (`agent.cli.serve`) picks the transport; nothing here reads the environment.
"""

from __future__ import annotations

from agent.serve.approval import ApprovalToolset, Approver, Decision, WriteNotApprovedError, needs_approval
from agent.serve.auth import BearerAuth, check_bind, is_loopback
from agent.serve.http import build_app, http_server, serve_http
from agent.serve.mcp_server import AskResult, build_mcp_server
from agent.serve.metrics import Metrics
from agent.serve.queue import FairQueue, QueueFullError, Ticket
from agent.serve.service import AGENT_MODEL_ID, CHAT_MODEL_ID, Service
from agent.serve.sessions import SessionStore, UnknownSessionError

__all__ = [
    "AGENT_MODEL_ID",
    "ApprovalToolset",
    "Approver",
    "AskResult",
    "BearerAuth",
    "CHAT_MODEL_ID",
    "Decision",
    "FairQueue",
    "Metrics",
    "QueueFullError",
    "Service",
    "SessionStore",
    "Ticket",
    "UnknownSessionError",
    "WriteNotApprovedError",
    "build_app",
    "build_mcp_server",
    "check_bind",
    "http_server",
    "is_loopback",
    "needs_approval",
    "serve_http",
]
