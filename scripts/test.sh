#!/usr/bin/env bash
# Set up (if needed), lint, type-check and run the whole test suite, on SQLite and PostgreSQL.
# Extra arguments go to pytest (e.g. -m "not slow" locally).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && .venv/bin/python -c "import auditor, polars, duckdb, hypothesis, cn2an, xdist" 2>/dev/null \
  && [ -x .venv/bin/ruff ] && [ -x .venv/bin/mypy ] || ./scripts/setup.sh
./scripts/system-deps.sh  # PostgreSQL started, Chromium and a CJK font installed where missing
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m auditor.engine.catalogue_doc --check
# one worker per core (pytest-xdist): every test has its own temporary folder, store and PostgreSQL schema
.venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" "$@"
