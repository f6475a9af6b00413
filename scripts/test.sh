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
if [ "$#" -gt 0 ]; then
    echo "== pytest $*"; exec pytest -q "$@"
fi
# The whole suite: two pytest processes side by side, one per half of the test directories
# (most tests wait on real subprocesses and servers, so two streams use the two cores of a
# CI machine). Each has its own temporary directory; their outputs are shown one after the
# other; the command fails if either fails. The halves are cut by measured time (2026-12-08,
# quiet machine: 17.2 and 22.6 min before tests/fleet and tests/windows, 2.7 min alone,
# moved to the first).
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
first=(tests/engine tests/canary tests/lab tests/examples tests/traffic tests/analysis
       tests/checks tests/notify tests/ux tests/server_metrics tests/workers
       tests/monitoring tests/programs tests/fleet tests/windows)
second=()
for path in tests/*/ tests/test_*.py; do
    path=${path%/}
    [ "$path" = tests/fixtures ] && continue
    [[ " ${first[*]} " == *" $path "* ]] || second+=("$path")
done
echo "== pytest, two streams: [${first[*]}] and [${second[*]}]"
# A background job of a script starts with SIGINT ignored (no job control), and every
# process a test starts would inherit that: tests that stop a process with SIGINT, as a
# person's Ctrl-C does, need the default. Reset it before exec-ing pytest.
with_sigint() {
    python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
with_sigint pytest -q -p no:cacheprovider --durations=40 --basetemp="$out/tmp1" "${first[@]}" >"$out/1.log" 2>&1 &
one=$!
with_sigint pytest -q -p no:cacheprovider --durations=40 --basetemp="$out/tmp2" "${second[@]}" >"$out/2.log" 2>&1 &
two=$!
status=0
wait "$one" || status=$?
echo "== stream 1"; cat "$out/1.log"
wait "$two" || status=$?
echo "== stream 2"; cat "$out/2.log"
exit "$status"
