"""Serving the agent: an MCP server (stdio or streamable HTTP), an OpenAI-compatible API, metrics.

    service.py      the runtime, queue, sessions and metrics every transport shares; `answer()`,
                    `chat()` (the plain model, `homelab-agent-chat`), `call_tool()`
    mcp_server.py   the `ask` tool (progress, sessions, trace) and re-exported tools
    approval.py     the write-approval policy: which calls wait for the user, and the toolset wrapper
    pending.py      runs and calls waiting for approval: parked by reference, claimed once
    asking.py       how an MCP client's user is asked, on every protocol
    chat_approval.py  how a chat client's user is asked: in the answer, decided by the next message
    store.py        the RunStore (SQLite by default, Redis for replicas): conversations, pending runs
    openai_api.py   /v1/chat/completions (streaming or not) and /v1/models
    http.py         the Starlette app and uvicorn; /healthz and /metrics
    guard.py        Host, Origin, content type and body size, before anything else
    queue.py        fair FIFO admission with a bounded line (429 when full)
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
from agent.serve.pending import NotPendingError, Pending
from agent.serve.queue import FairQueue, QueueFullError, Ticket
from agent.serve.service import AGENT_MODEL_ID, CHAT_MODEL_ID, Service
from agent.serve.sessions import SessionStore, UnknownSessionError
from agent.serve.store import RedisRunStore, RunStore, SQLiteRunStore

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
    "NotPendingError",
    "Pending",
    "QueueFullError",
    "RedisRunStore",
    "RunStore",
    "SQLiteRunStore",
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
