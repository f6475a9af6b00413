#!/usr/bin/env bash
# The whole test command: lint, format, types, docs drift, and the test suite.
# Run through the README's test set-up command (which installs everything first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
echo "== ruff check"; ruff check src tests bench scripts examples
echo "== ruff format"; ruff format --check src tests bench scripts examples
echo "== mypy --strict src"; mypy src
echo "== pytest"; pytest -q "$@"
