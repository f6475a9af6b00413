#!/usr/bin/env bash
# The whole test command: lint, format, types, import layers, docs drift, and the test suite.
# Run through the README's test set-up command (which installs everything first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
echo "== ruff check"; ruff check src tests bench scripts examples
echo "== ruff format"; ruff format --check src tests bench scripts examples
echo "== mypy --strict src"; mypy src
# The layers of docs/architecture.md, as contracts in pyproject.toml ([tool.importlinter]).
echo "== lint-imports"; lint-imports --no-logo
echo "== pytest"; pytest -q "$@"
