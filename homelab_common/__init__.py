"""Small pieces the agent and the tool servers share, importing nothing of either.

    from homelab_common import REDACTED, scrub, scrub_text

`redact` blanks secrets, in log events (`agent.logs`) and in what tool servers show
(`tools.docker` passes container log lines through it).
"""

from __future__ import annotations

from .redact import REDACTED, is_secret_key, known_secrets, scrub, scrub_text

__all__ = ["REDACTED", "is_secret_key", "known_secrets", "scrub", "scrub_text"]
