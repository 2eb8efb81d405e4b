#!/usr/bin/env bash
# Set up a development environment and run every check: lint, format, types, and the whole test
# suite, including the real-model tests with Qwen2.5-Coder-0.5B on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh dev
.venv/bin/homelab-agent models pull qwen2.5-coder-0.5b

echo "== ruff" >&2
.venv/bin/ruff check agent tools tests benchmarks
.venv/bin/ruff format --check agent tools tests benchmarks
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
.venv/bin/pytest -q -p no:cacheprovider "$@"
