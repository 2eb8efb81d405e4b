#!/usr/bin/env bash
# Set up a development environment and run every check: lint, format, types, and the whole test
# suite, including the real-model tests with Qwen2.5-Coder-0.5B on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh dev
.venv/bin/homelab-agent models pull qwen2.5-coder-0.5b

echo "== ruff" >&2
.venv/bin/ruff check agent tools homelab_common tests benchmarks
.venv/bin/ruff format --check agent tools homelab_common tests benchmarks
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
.venv/bin/pytest -q -p no:cacheprovider "$@"

# Nothing may depend on today's date: the suite again, a year ahead and a month back.
if command -v faketime >/dev/null 2>&1; then
  for shift in +365d -30d; do
    echo "== pytest with the clock moved $shift" >&2
    faketime -f "$shift" .venv/bin/pytest -q -p no:cacheprovider -m "not real_model" "$@"
  done
elif [ "${CI:-}" = true ]; then
  echo "error: faketime is missing (scripts/setup.sh dev installs it)" >&2; exit 1
else
  echo "warning: faketime is not installed: the suite was not run with the clock moved" >&2
fi
