#!/usr/bin/env bash
# Install what the Open WebUI browser run needs, outside the repo and outside CI:
#   - Open WebUI 0.12.4 from PyPI, pinned, in its own venv ($OWUI_VENV, default
#     ~/.local/share/homelab-agent/owui-venv),
#     with torch held to the CPU build (a constraints file, so pip never takes a CUDA build);
#   - selenium in that same venv (the browser driver's client);
#   - Debian's chromium and chromium-driver (apt-get, as root).
# Usage: benchmarks/openwebui/setup.sh            (idempotent; a second run only checks)
# Where torch's CPU wheel is not on a local wheel path, give pip its CPU index, e.g.
#   PIP_EXTRA_INDEX_URL=<torch's CPU wheel index> benchmarks/openwebui/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${OWUI_VENV:-$HOME/.local/share/homelab-agent/owui-venv}"

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium chromium-driver (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "error: install Debian's chromium and chromium-driver (as root: apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))' || {
  echo "error: Open WebUI 0.12.4 needs Python 3.11 or 3.12 (found $(python3 --version))" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("open-webui") == "0.12.4"; import selenium' 2>/dev/null; then
  echo "== installing open-webui==0.12.4 and selenium into $venv (log: $venv/setup.log)" >&2
  nice -n 10 "$venv/bin/pip" install -q -c "$here/constraints.txt" open-webui==0.12.4 selenium \
    >"$venv/setup.log" 2>&1 || { tail -30 "$venv/setup.log" >&2; exit 1; }
fi
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
import torch
assert m.version("open-webui") == "0.12.4", m.version("open-webui")
assert not torch.cuda.is_available() and "+cpu" in torch.__version__, torch.__version__
print(f"open-webui {m.version('open-webui')}, torch {torch.__version__}, selenium {m.version('selenium')}")
PY
chromium --version
