"""Every secret a loaded `Config` holds, so logging can redact them wherever they appear.

Reading secrets in is `agent.config.expand`'s job; redacting them is `homelab_common.redact`'s.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from agent.config.schema import Config

__all__ = ["secret_values"]


def secret_values(config: Config) -> list[str]:
    """Every `SecretStr` value in `config` of 4 characters or more."""
    found: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, SecretStr):
            value = obj.get_secret_value()
            if len(value) >= 4:
                found.append(value)
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(config)
    return found
