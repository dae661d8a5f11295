#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite. Fails loudly when a dependency is missing:
# nothing is skipped for want of tesseract, ghostscript, weed or PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/python scripts/check_deps.py
.venv/bin/ruff check src flows tests bench scripts
.venv/bin/lint-imports --no-cache --no-logo  # layer contracts: pyproject.toml [tool.importlinter]
.venv/bin/mypy  # strict; paths and settings in pyproject.toml [tool.mypy]
exec .venv/bin/python -m pytest "$@"
