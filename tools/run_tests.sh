#!/usr/bin/env bash
# Quick start command 2: set up .venv if needed, then run the whole test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/setup_env.sh"
cd "$ROOT"
python -m pytest -q "$@" tests
