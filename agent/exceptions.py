"""Every error homelab-agent raises, in two families.

    HomelabAgentError
    ├── CallDeferred ............ a tool call that waits for a decision: the run ends, paused
    ├── ToolError ............... the model sees it as an observation and the run goes on
    │   ├── ToolNotFoundError ... a tool name no toolset offers
    │   ├── ToolArgumentsError .. arguments that do not match the tool's schema
    │   ├── ToolTimeoutError .... a tool that did not answer in time
    │   └── ToolServerError ..... an MCP server that crashed, hung or could not start
    └── RunError ................ ends the run; the caller must act
        ├── ConfigError ......... a config file or value that cannot be used
        ├── ModelError .......... the model backend failed
        │   ├── ModelNotFoundError   no model file / unknown model name
        │   ├── ModelLoadError       a file that is not a loadable GGUF, or too large for this machine
        │   └── ContextOverflowError a prompt longer than the model's context
        └── MaxStepsError ....... the model kept calling tools past the step limit

Messages say what to do next. No constructor logs.
"""

from __future__ import annotations

__all__ = [
    "CallDeferred",
    "ConfigError",
    "ContextOverflowError",
    "HomelabAgentError",
    "MaxStepsError",
    "ModelError",
    "ModelLoadError",
    "ModelNotFoundError",
    "RunError",
    "ToolArgumentsError",
    "ToolError",
    "ToolNotFoundError",
    "ToolServerError",
    "ToolTimeoutError",
]


class HomelabAgentError(Exception):
    """Base of every homelab-agent error."""


class CallDeferred(HomelabAgentError):  # noqa: N818 (a signal, not a failure: pydantic-ai's name)
    """A toolset cannot run this call until someone decides (a write the user must approve).

    The loop never shows it to the model: the run ends with the call pending (`RunResult.paused`)
    and `Agent.run(resume=...)` goes on once the decision is known.
    """

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool!r} waits for a decision")
        self.tool = tool


class ToolError(HomelabAgentError):
    """A tool problem the model is told about; the run goes on."""


class ToolNotFoundError(ToolError):
    """The model asked for a tool that no toolset offers."""


class ToolArgumentsError(ToolError):
    """The model's arguments do not match the tool's input schema."""


class ToolTimeoutError(ToolError):
    """A tool call took longer than its timeout."""


class ToolServerError(ToolError):
    """An MCP server crashed, hung, or could not be started."""


class RunError(HomelabAgentError):
    """An error that ends the run."""


class ConfigError(RunError):
    """A config file or value that cannot be used."""


class ModelError(RunError):
    """The model backend failed."""


class ModelNotFoundError(ModelError):
    """No model file at the configured path, or an unknown model name."""


class ModelLoadError(ModelError):
    """A model file that cannot be loaded (corrupt, not GGUF, too large for this machine)."""


class ContextOverflowError(ModelError):
    """The prompt does not fit in the model's context window."""


class MaxStepsError(RunError):
    """The model kept calling tools until the step limit."""

    def __init__(self, max_steps: int) -> None:
        super().__init__(
            f"the model was still calling tools after {max_steps} steps; "
            "ask a narrower question or raise agent.max_steps in the config"
        )
        self.max_steps = max_steps
