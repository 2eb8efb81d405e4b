"""The public names of `agent.serve` are pinned."""

from __future__ import annotations

import agent.serve


def test_the_serve_package_exports_exactly_these_names() -> None:
    assert sorted(agent.serve.__all__) == [
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
    for name in agent.serve.__all__:
        assert hasattr(agent.serve, name)
