#!/usr/bin/env bash
# Set everything up and answer one question about a Kanboard with a local model.
# Usage: scripts/ask.sh "What is overdue in the Homelab project?"
# With KANBOARD_URL and KANBOARD_TOKEN set it asks your Kanboard; without, a labelled demo board.
# The model: HOMELAB_AGENT_MODEL if set (a name from `homelab-agent models list`); else, when
# homelab-agent.toml does not exist yet, the one that suits this machine (a 7-14B that fits the
# NVIDIA GPU, the 1.5B without one); else the one homelab-agent.toml already answers with.
set -euo pipefail
cd "$(dirname "$0")/.."
question="${1:-What is overdue in the Homelab project?}"
config=homelab-agent.toml
model="${HOMELAB_AGENT_MODEL:-}"

scripts/setup.sh
if [ ! -f "$config" ]; then
  cp config/homelab-agent.example.toml "$config"
  # no model chosen yet: take the best fit (prints what it picked and why)
  [ -n "$model" ] || model=$(.venv/bin/homelab-agent --config "$config" models recommend)
fi
if [ -n "$model" ]; then
  .venv/bin/homelab-agent --config "$config" models use "$model"
else
  .venv/bin/homelab-agent --config "$config" models pull
fi
[ -n "${KANBOARD_URL:-}" ] || echo "== KANBOARD_URL is not set: asking the built-in DEMO board" >&2
exec .venv/bin/homelab-agent --config "$config" ask --trace "$question"
