"""The public surface is pinned: changing it is a deliberate act."""

from __future__ import annotations

import agent


def test_the_package_exports_exactly_the_public_names() -> None:
    assert sorted(agent.__all__) == sorted(
        [
            "Agent",
            "CallDeferred",
            "Config",
            "ConfigError",
            "ContextOverflowError",
            "FilteredToolset",
            "HomelabAgentError",
            "MCPToolset",
            "MaxStepsError",
            "Message",
            "Model",
            "ModelError",
            "ModelLoadError",
            "ModelNotFoundError",
            "ModelResponse",
            "OneModel",
            "PausedRun",
            "Policy",
            "Rejection",
            "Route",
            "RunContext",
            "RunError",
            "RunResult",
            "Runtime",
            "ScriptedModel",
            "Session",
            "Step",
            "StepPlan",
            "ToolArgumentsError",
            "ToolCall",
            "ToolCallRecord",
            "ToolError",
            "ToolNotFoundError",
            "ToolResult",
            "ToolServerError",
            "ToolSpec",
            "ToolTimeoutError",
            "Toolbox",
            "Toolset",
            "Usage",
            "__version__",
            "load_config",
            "open_agent",
            "plan_step",
        ]
    )
    for name in agent.__all__:
        assert getattr(agent, name) is not None


def test_errors_fall_into_the_two_documented_families() -> None:
    for error in (
        agent.ToolNotFoundError,
        agent.ToolArgumentsError,
        agent.ToolTimeoutError,
        agent.ToolServerError,
    ):
        assert issubclass(error, agent.ToolError)
    for error in (agent.ConfigError, agent.ModelError, agent.MaxStepsError, agent.ContextOverflowError):
        assert issubclass(error, agent.RunError)
