"""Helpers for the security tests: the server as an attacker meets it.

The app is the same on every bind (`build_app` takes no address), so a server on 127.0.0.1
(`tests.serve.conftest.running`) is what an attacker meets on 0.0.0.0 too.
"""

from __future__ import annotations

EVIL = "http://evil.example"
