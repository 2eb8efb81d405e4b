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
# dev: the test suite also runs with the clock moved (faketime), and the Docker tests against a
# scratch Docker Engine (docker.io) running containers of a static busybox (busybox-static);
# scripts/test.sh needs all three in CI
if [[ "$extras" == *dev* ]] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  dev_apt=()
  command -v faketime >/dev/null 2>&1 || dev_apt+=(faketime)
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
.venv/bin/python -m pip install -q --upgrade pip

# llama.cpp's default native build uses every instruction of the build CPU (AMX included), which
# dies with SIGILL elsewhere; build a portable AVX2 binary unless the user chose CMAKE_ARGS.
# With an NVIDIA GPU (nvidia-smi sees one) and the CUDA toolkit (nvcc), build for CUDA, falling
# back to the CPU build if that fails.
cpu_args="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if [ -z "${CMAKE_ARGS:-}" ]; then
  export CMAKE_ARGS="$cpu_args"
  if command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 \
      && ! .venv/bin/python -c 'import llama_cpp, sys; sys.exit(not llama_cpp.llama_supports_gpu_offload())' 2>/dev/null; then
    echo "== building llama-cpp-python with CUDA" >&2
    CMAKE_ARGS="-DGGML_CUDA=on" .venv/bin/pip install -q --no-cache-dir --force-reinstall --no-deps \
      "llama-cpp-python==0.3.36" || echo "warning: the CUDA build failed; building for the CPU" >&2
  fi
fi
echo "== installing homelab-agent${extras:+[$extras]} (the first build of llama-cpp-python takes ~8 min)" >&2
.venv/bin/pip install -q -e ".${extras:+[$extras]}"
