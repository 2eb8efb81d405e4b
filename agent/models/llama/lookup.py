"""Draft tokens for speculative decoding, looked up in the prompt ("prompt lookup decoding").

Answers mostly quote what the prompt already holds (a tool result, a tool's name, a task title),
so the tokens that followed the last few generated ones where they appeared earlier are a good
guess of what comes next. `PromptLookup` keeps every n-gram of the context (prompt and output so
far) with where it last ended, and proposes the tokens that followed the longest n-gram the context
ends with. While a guess keeps coming true it goes on copying from the same place (a list is quoted
line after line, and a line's words also occur elsewhere: "assigned to" is followed by another
name in the previous line).

Only guesses: the model checks them (`decoding`), so a wrong draft costs time, never an answer.
Not here: evaluating tokens, sampling.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PromptLookup"]


class PromptLookup:
    """Proposes the next tokens by matching the context's last n-gram against its earlier tokens."""

    def __init__(self, context: Sequence[int], *, n_max: int = 4, n_min: int = 2) -> None:
        self.tokens: list[int] = []
        self.n_max, self.n_min = n_max, n_min
        self._ends: dict[tuple[int, ...], int] = {}  # n-gram -> index just after its latest end
        self._follow: int | None = None  # where the last accepted draft was copied from, next token
        for token in context:
            self.push(token)

    def push(self, token: int) -> None:
        """Append one token (the prompt's, or one generated) to the context."""
        tokens = self.tokens
        if self._follow is not None:
            self._follow = self._follow + 1 if tokens[self._follow] == token else None
        # every n-gram ending at the current last token is now followed by `token`
        end = len(tokens)
        for n in range(self.n_min, min(self.n_max, end) + 1):
            self._ends[tuple(tokens[end - n : end])] = end
        tokens.append(token)
        if self._follow is not None and self._follow >= len(tokens):
            self._follow = None

    def draft(self, k: int) -> list[int]:
        """Up to `k` tokens likely to follow the context, or none when nothing matches."""
        if k <= 0:
            return []
        tokens = self.tokens
        start = self._follow
        if start is None:
            for n in range(min(self.n_max, len(tokens)), self.n_min - 1, -1):
                found = self._ends.get(tuple(tokens[len(tokens) - n :]))
                if found is not None:
                    start = found
                    break
        if start is None:
            return []
        self._follow = start
        return tokens[start : start + k]
