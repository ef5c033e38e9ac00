#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the pinned stack.
# Sourced by tools/demo.sh and tools/run_tests.sh; safe to run again (a stamp file skips work
# when requirements.txt and setup.py are unchanged).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SPACT_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
TORCH_PINS="${SPACT_TORCH_PINS:-torch==2.14.1 torchvision==0.29.1}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup_env] creating virtual environment in $VENV"
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.spact_mm_stamp"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1) $TORCH_PINS"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "[setup_env] installing dependencies (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip wheel
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q $TORCH_PINS "setuptools>=77.0.3,<81"
    "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements.txt" $TORCH_PINS  # keeps torch pinned
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
