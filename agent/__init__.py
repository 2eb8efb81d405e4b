"""homelab-agent: ask a local open-weight model questions about your own tools, over MCP.

The public surface is re-exported here; everything else is private to its module.
"""

from __future__ import annotations

from agent.app import Runtime, open_agent
from agent.config import Config, load_config
from agent.exceptions import (
    CallDeferred,
    ConfigError,
    ContextOverflowError,
    HomelabAgentError,
    MaxStepsError,
    ModelError,
    ModelLoadError,
    ModelNotFoundError,
    RunError,
    ToolArgumentsError,
    ToolError,
    ToolNotFoundError,
    ToolServerError,
    ToolTimeoutError,
)
from agent.loop import Agent, Session
from agent.messages import Message, ModelResponse, ToolCall, ToolResult, ToolSpec, Usage
from agent.models.base import Model
from agent.models.scripted import ScriptedModel
from agent.policy import OneModel, Policy, Rejection, RunContext, StepPlan, plan_step
from agent.toolsets.base import FilteredToolset, Toolbox, Toolset
from agent.toolsets.mcp import MCPToolset
from agent.trace import PausedRun, Route, RunResult, Step, ToolCallRecord

__version__ = "0.1.0"

__all__ = [
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
