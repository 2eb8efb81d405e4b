#!/usr/bin/env bash
# A throwaway Docker Engine for the Docker tests and benchmark: vfs storage, no networking, its own
# socket, directories and containerd namespace under /tmp, so it shares nothing with a Docker that
# may already run here and never touches your containers. Needs root and docker.io
# (`scripts/setup.sh dev` installs it). Ready in seconds.
#
#   out=$(scripts/scratch-dockerd.sh start) && eval "$out"   # exports HOMELAB_AGENT_TEST_DOCKER_HOST
#   scripts/scratch-dockerd.sh stop "$HOMELAB_AGENT_SCRATCH_DOCKERD"
set -euo pipefail

fail() { echo "error: $*" >&2; exit 1; }

start() {
  [ "$(id -u)" = 0 ] || fail "starting a scratch dockerd needs root"
  command -v dockerd >/dev/null 2>&1 || fail "dockerd is not installed (scripts/setup.sh dev installs docker.io)"
  local dir
  dir=$(mktemp -d /tmp/hla-dockerd.XXXXXX)
  dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none --shutdown-timeout=2 \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    --containerd-namespace=homelab-agent-test --containerd-plugins-namespace=homelab-agent-test-plugins \
    --host "unix://$dir/docker.sock" >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    if [ -S "$dir/docker.sock" ] && docker --host "unix://$dir/docker.sock" version >/dev/null 2>&1; then
      echo "export HOMELAB_AGENT_TEST_DOCKER_HOST=unix://$dir/docker.sock"
      echo "export HOMELAB_AGENT_SCRATCH_DOCKERD=$dir"
      return 0
    fi
    kill -0 $! 2>/dev/null || break
    sleep 0.2
  done
  echo "error: the scratch dockerd did not start; the end of $dir/dockerd.log:" >&2
  tail -n 20 "$dir/dockerd.log" >&2 || true
  stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

stop() {
  local dir="${1:?usage: $0 stop DIR}"
  case "$dir" in /tmp/hla-dockerd.*) ;; *) fail "not a scratch dockerd directory: $dir" ;; esac
  if [ -f "$dir/dockerd.pid" ]; then
    local pid
    pid=$(cat "$dir/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # Anything the daemon left mounted under its directories (container shm, netns), deepest first.
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) fail "usage: $0 start | stop DIR" ;;
esac
