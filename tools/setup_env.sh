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
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
