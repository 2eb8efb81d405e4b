#!/usr/bin/env bash
# Set up homelab-agent in ./.venv: system build tools if missing, llama-cpp-python compiled for
# this machine (CUDA when nvcc is present, portable AVX2 otherwise), the package and its extras.
# Usage: scripts/setup.sh [EXTRAS]   (EXTRAS e.g. "dev"; pip caches the compiled wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing system packages: ${need_apt[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "error: please install ${need_apt[*]} (a C compiler, cmake and python3-venv are needed)" >&2
    exit 1
  fi
fi
# dev: the test suite also runs with the clock moved (faketime), the Docker tests against a
# scratch Docker Engine (docker.io) running containers of a static busybox (busybox-static), and
# the Redis run store's tests against a loopback redis-server; scripts/test.sh needs them in CI
if [[ "$extras" == *dev* ]] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  dev_apt=()
  command -v faketime >/dev/null 2>&1 || dev_apt+=(faketime)
  command -v redis-server >/dev/null 2>&1 || dev_apt+=(redis-server)  # the Redis run store's tests
  command -v dockerd >/dev/null 2>&1 || dev_apt+=(docker.io)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || dev_apt+=(busybox-static)
  if [ ${#dev_apt[@]} -gt 0 ]; then
    echo "== installing system packages: ${dev_apt[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${dev_apt[@]}" >/dev/null
  fi
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "error: Python 3.11 or newer is needed (found $(python3 --version))" >&2; exit 1; }

[ -x .venv/bin/python ] || python3 -m venv .venv

# Long pip runs write to .venv/setup.log; the terminal gets one progress line (updated in place, or
# once a minute when stderr is not a terminal, as in CI) and, on failure, the log's last lines.
log=.venv/setup.log
: > "$log"
run_logged() {
  local what=$1 start=$SECONDS pid elapsed last=-60
  shift
  "$@" >>"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    elapsed=$((SECONDS - start))
    if [ -t 2 ]; then
      printf '\r== %s ... %dm%02ds (log: %s) ' "$what" $((elapsed / 60)) $((elapsed % 60)) "$log" >&2
    elif [ $((elapsed - last)) -ge 60 ]; then
      echo "== $what ... $((elapsed / 60))m$((elapsed % 60))s" >&2
      last=$elapsed
    fi
    sleep 1
  done
  if ! wait "$pid"; then
    [ -t 2 ] && echo >&2
    echo "error: $what failed; the last lines of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
  elapsed=$((SECONDS - start))
  [ -t 2 ] && printf '\r\033[K' >&2
  echo "== $what: done in $((elapsed / 60))m$((elapsed % 60))s" >&2
}

run_logged "upgrading pip" .venv/bin/python -m pip install --upgrade pip

# llama.cpp's default native build uses every instruction of the build CPU (AMX included), which
# dies with SIGILL elsewhere; build a portable AVX2 binary unless the user chose CMAKE_ARGS.
# With an NVIDIA GPU (nvidia-smi sees one) and the CUDA toolkit (nvcc), build for CUDA, falling
# back to the CPU build if that fails.
cpu_args="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if [ -z "${CMAKE_ARGS:-}" ]; then
  export CMAKE_ARGS="$cpu_args"
  if command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 \
      && ! .venv/bin/python -c 'import llama_cpp, sys; sys.exit(not llama_cpp.llama_supports_gpu_offload())' 2>/dev/null; then
    CMAKE_ARGS="-DGGML_CUDA=on" run_logged "building llama-cpp-python with CUDA" \
      .venv/bin/pip install --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==0.3.36" \
      || echo "warning: the CUDA build failed; building for the CPU" >&2
  elif ! command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "warning: an NVIDIA GPU is here but not the CUDA toolkit (nvcc): llama-cpp-python is built for" \
      "the CPU and models will not use the GPU; install the toolkit and run scripts/setup.sh again" >&2
  fi
fi
run_logged "installing homelab-agent${extras:+[$extras]} (the first build of llama-cpp-python takes ~8 min)" \
  .venv/bin/pip install -e ".${extras:+[$extras]}"
