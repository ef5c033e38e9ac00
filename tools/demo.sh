#!/usr/bin/env bash
# Quick start command 1: set up .venv if needed, then run the three SPAct stages on the
# synthetic dataset with small networks, then the privacy verdict (about 6.5 minutes on 2 idle CPU
# cores, plus creating .venv the first time).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/setup_env.sh"
cd "$ROOT"
python tools/demo.py "$@"
