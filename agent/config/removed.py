"""Keys of earlier config versions, and why each went: a config that still has one is told to delete it.

Only the reason lives here; `agent.config.errors` words the message and the schema rejects the key.
"""

from __future__ import annotations

__all__ = ["REMOVED", "why_removed"]

_NO_CLASSIFIER = "the router no longer asks a model to classify questions"

REMOVED: dict[tuple[str, str], str] = {
    ("router", "router_model"): _NO_CLASSIFIER,
    ("router", "classify_with_model"): _NO_CLASSIFIER,
    ("router", "model_band"): _NO_CLASSIFIER,
    ("router", "max_tools"): "the router offers every tool now",
    ("router", "small_lookups"): "a fixed rule now: one lookup, then an answer",
    ("router", "small_max_steps"): "a fixed rule now",
    ("router", "escalate"): 'mode = "auto" always escalates; always_small never does',
    ("router", "require_lookup"): 'always on in mode = "auto"',
    ("router", "require_grounding"): 'always on in mode = "auto"',
}
"""(table, key) → why the key is no longer a setting."""


def why_removed(table: str, key: str) -> str | None:
    """Why `[table] key` was removed, or None if it never was a setting."""
    return REMOVED.get((table, key))
