"""What a peer run found about the peers, beside the numbers: each a thing tried and its exact error.

A peer that cannot run as documented is a result, not a crash (issue 16): the probes here try
kanboard-mcp the way its README sets it up (Kanboard's application token, user `jsonrpc`) and call
one tool with an argument, with and without our positional-arguments fix; `__main__` adds the
stacks that failed to start or to warm up, and `run_errors` the errors that ended questions. No
model runs here; this module does not score answers.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.runner import Results

__all__ = ["Finding", "app_token_refused", "as_json", "markdown", "run_errors"]


@dataclass(frozen=True)
class Finding:
    """One thing tried with a peer and what came of it."""

    stack: str  # the stack key ("peer-a"), or "kanboard-mcp" for a probe of the server alone
    tried: str  # what was tried, in a sentence
    outcome: str  # the exact error (or result), as the peer printed it


def app_token_refused(command: str, env: Mapping[str, str], timeout_s: float = 60.0) -> Finding | None:
    """Start kanboard-mcp with `env` (an application token) and no client; a finding if it exits failing.

    kanboard-mcp checks its credentials with `getMe` before it serves, so a refusal ends the process
    at once with the reason on stderr; one that starts reads end-of-file on stdin and exits 0.
    """
    tried = "kanboard-mcp with Kanboard's application token (user jsonrpc), as its README sets it up"
    try:
        done = subprocess.run(
            [command],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None  # it served (and waited for a client): the token was accepted
    except OSError as exc:  # not installed: the peer's start will say so again
        return Finding("peer-a", tried, f"{type(exc).__name__}: {exc}")
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return Finding(
        "peer-a",
        tried,
        f"exit {done.returncode}: {(errors or lines or ['(no output)'])[-1]}",
    )


def markdown(findings: list[Finding]) -> str:
    """The findings as a markdown list, or a line saying there were none."""
    if not findings:
        return "None.\n"
    return "".join(f"- **{f.stack}**: {f.tried}:\n  `{_code(f.outcome)}`\n" for f in findings)


def _code(text: str) -> str:
    """`text` on one line, at most 600 characters, with no backtick to end the code span early."""
    return " ".join(text.replace("`", "'").split())[:600]


def as_json(findings: list[Finding]) -> list[dict[str, Any]]:
    """The findings as JSON-ready dicts."""
    return [asdict(f) for f in findings]


def run_errors(runs: Sequence[Results]) -> list[Finding]:
    """Each distinct error that ended a run, per stack and board, with how many questions it ended."""
    found: list[Finding] = []
    for r in runs:
        errors = Counter(o.error for o in r.outcomes if o.error)
        for error, n in errors.most_common():
            found.append(
                Finding(r.label, f"{n} of {len(r.outcomes)} questions on {r.board} ended with", error)
            )
    return found
