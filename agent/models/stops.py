"""Stop sequences on a streamed answer: text up to the first stop goes on, the rest never does.

Every backend cuts an answer the same way (`StopText`): pieces are passed on as they come, less a
tail that could be the start of a stop sequence; once the text holds one, what comes before it is
passed on and the generation should end (`hit`). The stop sequence itself is not part of the
answer, as in the OpenAI API's `stop`. Not here: what to stop at (`agent.quoting`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["StopText", "cut_at_stop"]


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, str | None]:
    """`text` up to its first stop sequence, and that sequence (None when it holds none)."""
    found = [(i, s) for s in stop if s and (i := text.find(s)) >= 0]
    if not found:
        return text, None
    i, s = min(found)
    return text[:i], s


class StopText:
    """Forwards streamed answer text to `sink` until it holds one of `stop`."""

    def __init__(self, sink: Callable[[str], None] | None, stop: Sequence[str]) -> None:
        self._sink, self._stop = sink, tuple(s for s in stop if s)
        self._text = ""
        self._sent = 0
        self.hit: str | None = None  # the stop sequence found, once found

    @property
    def text(self) -> str:
        """The answer so far: everything before the stop once one was found."""
        return self._text

    def feed(self, piece: str) -> None:
        """Take the next piece of answer text."""
        if self.hit is not None:
            return
        self._text += piece
        before, self.hit = cut_at_stop(self._text, self._stop)
        if self.hit is not None:
            self._text = before
            self._send(len(before))
            return
        safe = len(self._text)
        for s in self._stop:  # keep back a tail that could begin a stop sequence
            for size in range(min(len(s) - 1, len(self._text)), 0, -1):
                if self._text.endswith(s[:size]):
                    safe = min(safe, len(self._text) - size)
                    break
        self._send(safe)

    def flush(self) -> None:
        """The answer ended without a stop: pass on the tail held back."""
        self._send(len(self._text))

    def _send(self, end: int) -> None:
        if end > self._sent:
            piece, self._sent = self._text[self._sent : end], end
            if self._sink is not None:
                self._sink(piece)
