"""What every subcommand shares: loading the config, configuring logs, turning errors into exits."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import anyio
import click

from agent.config import Config, load_config, secret_values
from agent.exceptions import ConfigError, HomelabAgentError
from homelab_common.logs import configure_logging

__all__ = ["fail", "load", "run_async"]

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: message` to stderr and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load(ctx: click.Context) -> Config:
    """The config named on the command line (or found in the default places), with logging set up."""
    obj: dict[str, Any] = ctx.obj or {}
    try:
        config = load_config(obj.get("config_path"))
    except ConfigError as exc:
        configure_logging(obj.get("log_level") or "warning", obj.get("log_format") or "console")
        fail(str(exc), 2)
    configure_logging(
        obj.get("log_level") or config.logging.level,
        obj.get("log_format") or config.logging.format,
        secret_values(config),
    )
    return config


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn` on an event loop; our errors print as one line, Ctrl-C exits quietly."""
    try:
        return anyio.run(fn)
    except BaseExceptionGroup as group:  # raised inside a task group (the MCP servers' or the server's)
        ours = _only(group)
        if ours is None:
            raise
        fail(str(ours), 2 if isinstance(ours, ConfigError) else 1)
    except ConfigError as exc:
        fail(str(exc), 2)
    except HomelabAgentError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)


def _only(group: BaseExceptionGroup[BaseException]) -> HomelabAgentError | None:
    """The one error of ours a group of one (nested) holds, or None."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, HomelabAgentError) else None
