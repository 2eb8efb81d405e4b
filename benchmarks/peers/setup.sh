#!/usr/bin/env bash
# Everything `python -m benchmarks.peers` needs, pinned, beside the dev setup:
#   - the `peers` extra in .venv (the OpenAI Agents SDK, the peers' MCP host);
#   - kanboard-mcp in its own venv (it needs mcp<2, we need mcp 2), as uvx or pipx would install it;
#   - upstream llama-server at the llama.cpp revision llama-cpp-python vendors (build_llama_server.sh).
# Usage: benchmarks/peers/setup.sh   (~10 min the first time, for llama-server; cached after)
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${PEERS_CACHE:-$HOME/.cache/homelab-agent/peers}"
[ -x .venv/bin/python ] || scripts/setup.sh dev
.venv/bin/pip install --quiet -e ".[dev,peers]"
if [ ! -x "$cache/kanboard-mcp/bin/kanboard-mcp" ]; then
  python3 -m venv "$cache/kanboard-mcp"
  "$cache/kanboard-mcp/bin/pip" install --quiet -r benchmarks/peers/requirements-kanboard-mcp.txt
fi
benchmarks/peers/build_llama_server.sh
