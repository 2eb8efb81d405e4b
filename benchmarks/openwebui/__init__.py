"""Open WebUI 0.12.4 against `serve` in headless Chromium; its MCP client against ours (outside CI)."""
