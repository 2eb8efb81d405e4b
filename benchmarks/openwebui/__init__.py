"""Open WebUI 0.12.4 against `serve` in headless Chromium, and its MCP client against our servers (outside CI)."""
