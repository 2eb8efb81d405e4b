"""Small pieces the agent and the tool servers share, importing nothing of either.

    from homelab_common import REDACTED, configure_logging, scrub, scrub_text

`redact` blanks secrets, in log events and in what tool servers show (`tools.docker` passes
container log lines through it); `logs` sends structlog to stderr through those rules, for the
agent's and the servers' entry points alike.
"""

from __future__ import annotations

from .logs import configure_logging
from .redact import REDACTED, is_secret_key, known_secrets, scrub, scrub_text

__all__ = ["REDACTED", "configure_logging", "is_secret_key", "known_secrets", "scrub", "scrub_text"]
