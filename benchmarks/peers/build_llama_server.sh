#!/usr/bin/env bash
# Build upstream llama.cpp's `llama-server` at the revision llama-cpp-python vendors (the version
# pinned in pyproject.toml), portable AVX2 like scripts/setup.sh, and cache it outside the repo.
# Usage: benchmarks/peers/build_llama_server.sh   (prints the binary's path; ~10 min on 2 cores)
# Env: PEERS_CACHE (default ~/.cache/homelab-agent/peers), JOBS (default 2), NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml | head -n1)
cache="${PEERS_CACHE:-$HOME/.cache/homelab-agent/peers}"
bin="$cache/llama-server-$version/llama-server"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache/src"
src="$cache/src/llama_cpp_python-$version"
if [ ! -d "$src/vendor/llama.cpp" ]; then
  python3 -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$cache/src" >&2
  tar xzf "$cache/src/llama_cpp_python-$version.tar.gz" -C "$cache/src"
fi
build="$src/build-server"
# no web UI download (no network but PyPI here), no HTTPS, a static binary; the CPU flags are
# setup.sh's: the default native build dies with SIGILL on CPUs older than the build machine's
cmake -S "$src/vendor/llama.cpp" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
nice -n "${NICE:-19}" cmake --build "$build" --target llama-server -j "${JOBS:-2}" >&2
mkdir -p "$(dirname "$bin")"
cp "$build/bin/llama-server" "$bin"
echo "$bin"
