#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the pinned stack.
# Sourced by tools/demo.sh and tools/run_tests.sh; safe to run again (a stamp file skips work
# when requirements.txt and setup.py are unchanged).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SPACT_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
TORCH_PINS="${SPACT_TORCH_PINS:-torch==2.14.1 torchvision==0.29.1}"
# SPACT_MMACTION2_PIN (e.g. 'mmaction2==1.2.0') replaces requirements.txt's mmaction2 line;
# .ci/run uses it for its second run. setup.py accepts mmaction2>=1.1.0,<2.
MMA_PIN="${SPACT_MMACTION2_PIN:-}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup_env] creating virtual environment in $VENV"
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.spact_mm_stamp"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1) $TORCH_PINS${MMA_PIN:+ $MMA_PIN}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "[setup_env] installing dependencies (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip wheel
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q $TORCH_PINS "setuptools>=77.0.3,<81"
    REQ="$ROOT/requirements.txt"
    if [ -n "$MMA_PIN" ]; then
        REQ="$(mktemp)"
        grep -v '^mmaction2' "$ROOT/requirements.txt" > "$REQ"
        echo "$MMA_PIN" >> "$REQ"
    fi
    "$VENV/bin/python" -m pip install -q -r "$REQ" $TORCH_PINS  # keeps torch pinned
    if [ -n "$MMA_PIN" ]; then rm -f "$REQ"; fi
    # compat mode: a .pth puts the repo on sys.path (mmaction2's own `develop` layout), so the
    # regular package in the repo wins over the mim folder below.
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT" \
        --config-settings editable_mode=compat
    echo "$WANT" > "$STAMP"
fi
# mim (openmim) looks for a package in site-packages/<name> (next to its dist-info). A PEP 660
# editable install puts only a .pth there, so `mim list/search/train spact_mm` would not see
# it. Give mim site-packages/spact_mm with links to model-index.yml, configs and tools (no
# __init__.py, and none of the paths a wheel of spact_mm writes, so `pip install .` over it
# is safe; the real package is still imported from the repo).
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [ -n "$SITE" ] && [ -d "$SITE" ] && [ ! -e "$SITE/spact_mm/__init__.py" ]; then
    mkdir -p "$SITE/spact_mm"
    for f in model-index.yml configs tools; do ln -sfn "$ROOT/$f" "$SITE/spact_mm/$f"; done
fi
export PATH="$VENV/bin:$PATH"
