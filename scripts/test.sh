#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && .venv/bin/python -c "import auditor, polars, duckdb" 2>/dev/null || ./scripts/setup.sh
.venv/bin/python -m pytest "$@"
