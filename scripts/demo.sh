#!/usr/bin/env bash
# Set up (if needed) and run the demo: generate a synthetic 长宁区 drop and audit it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && .venv/bin/python -c "import auditor, polars" 2>/dev/null || ./scripts/setup.sh
.venv/bin/python run_audit.py demo "$@"
