"""Serving the agent: an MCP server (stdio or streamable HTTP), an OpenAI-compatible API, metrics.

    service.py      the runtime, queue, sessions and metrics every transport shares; `answer()`
    mcp_server.py   the `ask` tool (progress, sessions, trace) and re-exported tools
    openai_api.py   /v1/chat/completions (streaming or not) and /v1/models
    http.py         the Starlette app and uvicorn; /healthz and /metrics
    queue.py        fair FIFO admission with a bounded line (429 when full)
    approval.py     the write-approval toolset wrapper
    auth.py         bearer auth and the no-token-no-exposure rule
    sessions.py     conversations by id, LRU + TTL bounded
    metrics.py      Prometheus metrics

The CLI (`agent.cli.serve`) picks the transport; nothing here reads the environment.
"""

from __future__ import annotations

from agent.serve.approval import ApprovalToolset, Approver, WriteNotApprovedError, needs_approval
from agent.serve.auth import BearerAuth, check_bind, is_loopback
from agent.serve.http import build_app, http_server, serve_http
from agent.serve.mcp_server import AskResult, build_mcp_server
from agent.serve.metrics import Metrics
from agent.serve.queue import FairQueue, QueueFullError, Ticket
from agent.serve.service import AGENT_MODEL_ID, Service
from agent.serve.sessions import SessionStore

__all__ = [
    "AGENT_MODEL_ID",
    "ApprovalToolset",
    "Approver",
    "AskResult",
    "BearerAuth",
    "FairQueue",
    "Metrics",
    "QueueFullError",
    "Service",
    "SessionStore",
    "Ticket",
    "WriteNotApprovedError",
    "build_app",
    "build_mcp_server",
    "check_bind",
    "http_server",
    "is_loopback",
    "needs_approval",
    "serve_http",
]
