"""kanboard-mcp 0.1.1 with one fix: arguments it passes by position reach Kanboard.

kanboard-mcp calls the `kanboard` client as `client.get_task(task_id)`, but that client sends
only keyword arguments (`params: {}` here), so every tool that takes an argument fails with
Kanboard's "Invalid params" (after three retries a second apart). JSON-RPC also takes `params` as
a list, in the procedure's order, and Kanboard accepts that; this launcher sends positional
arguments that way and changes nothing else. Run it with the Python of kanboard-mcp's own venv
(benchmarks/peers/setup.sh makes it): it imports only kanboard and kanboard_mcp.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import kanboard
from kanboard_mcp.server import main

_original_getattr = kanboard.Client.__getattr__


def _execute_positional(client: Any, method: str, params: list[Any]) -> Any:
    """`kanboard.Client.execute`, with `params` as a JSON-RPC list instead of an object."""
    payload = {"id": 1, "jsonrpc": "2.0", "method": method, "params": params}
    credentials = base64.b64encode(f"{client._username}:{client._password}".encode()).decode()
    prefix = "Basic " if client._auth_header == kanboard.DEFAULT_AUTH_HEADER else ""
    headers = {
        client._auth_header: prefix + credentials,
        "Content-Type": "application/json",
        "User-Agent": client._user_agent,
    }
    return client._do_request(headers, payload)


def _getattr(self: Any, name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = _original_getattr(self, name)
    if kanboard.Client.is_async_method_name(name):
        return function
    method = self._to_camel_case(name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if args and not kwargs:
            return _execute_positional(self, method, list(args))
        return function(*args, **kwargs)

    return call


kanboard.Client.__getattr__ = _getattr

if __name__ == "__main__":
    main()
