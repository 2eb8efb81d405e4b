"""Prometheus metrics for the server, in a registry of their own (so tests can build many).

Counts requests by endpoint and status, agent runs and plain model turns, request latency, tokens
per second, tool calls by tool and outcome, errors, the queue's depth, and (with the router) routes
taken, escalations by kind and the time each routing decision took. The HTTP middleware and the
service fill them in; this module only declares them and renders `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from agent.trace import RunResult

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)


class Metrics:
    """The server's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "homelab_agent_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "homelab_agent_request_seconds",
            "HTTP request latency",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.runs = Counter("homelab_agent_runs", "Agent runs by outcome", ["outcome"], registry=r)
        self.chats = Counter(
            "homelab_agent_chats",
            "Plain model turns (homelab-agent-chat: no tools, no agent run) by outcome",
            ["outcome"],
            registry=r,
        )
        self.run_seconds = Histogram(
            "homelab_agent_run_seconds", "Agent run duration", buckets=LATENCY_BUCKETS, registry=r
        )
        self.tokens_per_second = Histogram(
            "homelab_agent_tokens_per_second",
            "Output tokens per second of model time, per run",
            buckets=(1, 2, 5, 10, 20, 40, 80, 160, 320),
            registry=r,
        )
        self.output_tokens = Counter("homelab_agent_output_tokens", "Output tokens generated", registry=r)
        self.tool_calls = Counter(
            "homelab_agent_tool_calls", "Tool calls by tool and outcome", ["tool", "outcome"], registry=r
        )
        self.routes = Counter(
            "homelab_agent_routes",
            "Router decisions per run: the model chosen first, and whether the large one took over",
            ["decided", "escalated"],
            registry=r,
        )
        self.escalations = Counter(
            "homelab_agent_escalations",
            "Runs the small model handed to the large one, by why",
            ["kind"],
            registry=r,
        )
        self.route_seconds = Histogram(
            "homelab_agent_route_decision_seconds",
            "Time the router took to decide a run's tools and model",
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=r,
        )
        self.errors = Counter("homelab_agent_errors", "Failed runs by error type", ["kind"], registry=r)
        self.rejected = Counter(
            "homelab_agent_rejected", "Requests refused because the queue was full", registry=r
        )
        self.queue_depth = Gauge("homelab_agent_queue_depth", "Requests waiting for the model", registry=r)
        self.in_flight = Gauge("homelab_agent_in_flight", "Requests being answered", registry=r)

    def watch_queue(self, waiting: Callable[[], int], active: Callable[[], int]) -> None:
        """Read the queue's depth and active count at scrape time."""
        self.queue_depth.set_function(lambda: float(waiting()))
        self.in_flight.set_function(lambda: float(active()))

    def observe_run(self, result: RunResult) -> None:
        """Record a finished run: duration, tokens/s, every tool call's outcome (a paused run: a count)."""
        if result.paused is not None:
            self.runs.labels("paused").inc()
            return
        self.runs.labels("ok").inc()
        self.run_seconds.observe(result.duration_s)
        model_s = sum(step.model_s for step in result.steps)
        self.output_tokens.inc(result.usage.output_tokens)
        if model_s > 0 and result.usage.output_tokens:
            self.tokens_per_second.observe(result.usage.output_tokens / model_s)
        for step in result.steps:
            for call in step.tool_calls:
                self.tool_calls.labels(call.name, "error" if call.is_error else "ok").inc()
        routes = [step.route for step in result.steps if step.route]
        if routes:
            first, escalated = routes[0], next((r for r in routes if r.escalation), None)
            self.routes.labels(first.decided, "yes" if escalated else "no").inc()
            self.route_seconds.observe(first.decide_ms / 1000)
            if escalated is not None and escalated.escalation is not None:
                self.escalations.labels(escalated.escalation).inc()

    def observe_failure(self, error: BaseException) -> None:
        """Record a run that ended in an error."""
        self.runs.labels("error").inc()
        self.errors.labels(type(error).__name__).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
