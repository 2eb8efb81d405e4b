"""Token counts without a tokenizer: an estimate from characters, and cutting text to a budget.

Used where no model is at hand (the loop's budget for tool results, `homelab-agent tools`);
exact counts come from the model's own tokenizer (`benchmarks/tool_tokens.py`).
"""

from __future__ import annotations

__all__ = ["CHARS_PER_TOKEN", "estimate_tokens", "truncate"]

CHARS_PER_TOKEN = 3.5  # a conservative estimate for compact English text and JSON


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is."""
    return int(len(text) / CHARS_PER_TOKEN)


def truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut `text` to about `max_tokens`, with a note the model can see; and whether it was cut."""
    limit = int(max_tokens * CHARS_PER_TOKEN)
    if len(text) <= limit:
        return text, False
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > limit // 2 else limit
    note = (
        f"\n[result cut: showing about {max_tokens} of {estimate_tokens(text)} tokens. "
        "Ask a narrower question (a project, a person, a query) to see the rest.]"
    )
    return text[:cut] + note, True
