#!/usr/bin/env bash
# Set up a development environment and run every check: lint, format, types, and the whole test
# suite, including the real-model tests with Qwen2.5-Coder-0.5B on the CPU and the Docker tests
# against a scratch Docker Engine (as root; elsewhere they are left out with a warning, in CI they must run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh dev
# the real-model tests' 0.5B, in the suite's own models directory (the user's is never read)
.venv/bin/homelab-agent models pull qwen2.5-coder-0.5b --models-dir .venv/test-models

echo "== ruff" >&2
.venv/bin/ruff check agent tools homelab_common tests benchmarks
.venv/bin/ruff format --check agent tools homelab_common tests benchmarks
echo "== mypy" >&2
.venv/bin/mypy
# The Docker tests need an engine they may fill with containers: as root, a scratch one (never the
# Docker you may run here), stopped on exit. HOMELAB_AGENT_TEST_DOCKER_HOST set beforehand wins.
leave_out=""
if [ -z "${HOMELAB_AGENT_TEST_DOCKER_HOST:-}" ] && [ "$(id -u)" = 0 ]; then
  echo "== starting a scratch Docker Engine" >&2
  engine=$(scripts/scratch-dockerd.sh start)
  eval "$engine"
  trap 'scripts/scratch-dockerd.sh stop "$HOMELAB_AGENT_SCRATCH_DOCKERD"' EXIT
elif [ -z "${HOMELAB_AGENT_TEST_DOCKER_HOST:-}" ] && [ "${CI:-}" = true ]; then
  echo "error: the Docker tests need root to start a scratch Docker Engine in CI" >&2; exit 1
elif [ -z "${HOMELAB_AGENT_TEST_DOCKER_HOST:-}" ]; then
  echo "warning: not root and no HOMELAB_AGENT_TEST_DOCKER_HOST: the Docker tests are left out (-m 'not docker_engine')" >&2
  leave_out="not docker_engine"
fi

echo "== pytest" >&2
.venv/bin/pytest -q -p no:cacheprovider ${leave_out:+-m "$leave_out"} "$@"

# Nothing may depend on today's date: the suite again, a year ahead and a month back.
if command -v faketime >/dev/null 2>&1; then
  for shift in +365d -30d; do
    echo "== pytest with the clock moved $shift" >&2
    faketime -f "$shift" .venv/bin/pytest -q -p no:cacheprovider -m "not real_model${leave_out:+ and $leave_out}" "$@"
  done
elif [ "${CI:-}" = true ]; then
  echo "error: faketime is missing (scripts/setup.sh dev installs it)" >&2; exit 1
else
  echo "warning: faketime is not installed: the suite was not run with the clock moved" >&2
fi
