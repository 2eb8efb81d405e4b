#!/usr/bin/env bash
# Set everything up and answer one question about a Kanboard with a local model.
# Usage: scripts/ask.sh "What is overdue in the Homelab project?"
# With KANBOARD_URL and KANBOARD_TOKEN set it asks your Kanboard; without, a labelled demo board.
set -euo pipefail
cd "$(dirname "$0")/.."
question="${1:-What is overdue in the Homelab project?}"
model="${HOMELAB_AGENT_MODEL:-qwen2.5-coder-1.5b}"

scripts/setup.sh
[ -f homelab-agent.toml ] || cp config/homelab-agent.example.toml homelab-agent.toml
.venv/bin/homelab-agent models pull "$model"
[ -n "${KANBOARD_URL:-}" ] || echo "== KANBOARD_URL is not set: asking the built-in DEMO board" >&2
exec .venv/bin/homelab-agent --config homelab-agent.toml ask --trace "$question"
