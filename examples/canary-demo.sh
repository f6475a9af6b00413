#!/bin/sh
# Watch a canary rollout end to end, in one terminal: start the canary lab (real backends,
# nginx, Prometheus, load; examples/canary-lab.md), run seed 002's plan against it
# (examples/seeds/002-canary.yaml), then stop the lab.
#
#   examples/canary-demo.sh            healthy canary: 0 → 50 → 80 → 90 → 95 → 100 %, ~1 minute
#   examples/canary-demo.sh --bad      the canary answers 500 to every 2nd request once it
#                                      reaches 80 %: the error-rate trigger rolls it back
#   examples/canary-demo.sh --slow     the canary turns 0.6 s slower at 80 %: the p95 trigger
#                                      rolls it back
#   options: --dir DIR (the lab's files and log, default ./.canary-demo), --rate N (load, req/s)
#
# Afterwards: `phasegate report last` (runs are journaled in $PHASEGATE_HOME, else
# ./.phasegate). The exit status is 0 when the run ended as the scenario expects (promoted,
# or rolled back for --bad/--slow), else phasegate's own exit status.
set -eu

examples=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$examples")
plan="$examples/seeds/002-canary.yaml"
dir=.canary-demo
rate=50
fault=""
fault_at=80
lab_pid=""
run_pid=""

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --bad) fault="--error-rate 0.5" ;;
        --slow) fault="--latency 0.6" ;;
        --dir) [ $# -ge 2 ] || { echo "canary-demo: --dir needs a directory" >&2; exit 2; }
            dir=$2; shift ;;
        --rate) [ $# -ge 2 ] || { echo "canary-demo: --rate needs a number" >&2; exit 2; }
            rate=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "canary-demo: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

lab() {
    "$examples/canary-lab.sh" "$@"
}

# Stop what this script started, whatever happened: phasegate first (its rollback needs the
# lab), then the lab, by its own `down` (which waits for nginx and Prometheus to exit).
cleanup() {
    status=$?
    trap - EXIT INT TERM HUP
    if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
        kill -TERM "$run_pid" 2>/dev/null || true
        wait "$run_pid" 2>/dev/null || true
    fi
    if [ -n "$lab_pid" ]; then
        if [ -f "$dir/lab.json" ]; then
            lab down --dir "$dir" >/dev/null 2>&1 || kill -TERM "$lab_pid" 2>/dev/null || true
        else
            kill -TERM "$lab_pid" 2>/dev/null || true
        fi
        wait "$lab_pid" 2>/dev/null || true
        echo "canary-demo: lab stopped (its log: $dir/lab.log)"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

mkdir -p "$dir"
rm -f "$dir/lab.env"
echo "canary-demo: starting the lab in $dir (Prometheus needs a few seconds to scrape)…"
lab up --dir "$dir" --rate "$rate" >"$dir/lab.log" 2>&1 &
lab_pid=$!

# lab.env appears once everything listens and Prometheus sees both backends.
waited=0
until [ -f "$dir/lab.env" ]; do
    if ! kill -0 "$lab_pid" 2>/dev/null; then
        echo "canary-demo: the lab did not start:" >&2
        cat "$dir/lab.log" >&2
        lab_pid=""
        exit 1
    fi
    if [ "$waited" -ge 600 ]; then
        echo "canary-demo: the lab was not ready within 60 s; its log: $dir/lab.log" >&2
        exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
done
# shellcheck disable=SC1091
. "$dir/lab.env"
echo "canary-demo: app $APP_URL, Prometheus $PROMETHEUS_URL; per-second load: tail -f $dir/lab.log"

# The fault is injected from outside, as a real regression would arrive: when nginx serves
# the canary its 80 % share (read from the router's confirmation URL), at most 120 s from now.
inject_fault() {
    uv run --project "$root" python - "$NGINX_CONFIRM_URL" "$fault_at" <<'EOF'
import json, sys, time, urllib.request
url, share = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            if json.loads(answer.read()).get("canary", 0) >= share:
                sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
    # shellcheck disable=SC2086
    lab fault canary $fault --dir "$dir"
}

set +e
if [ -n "$fault" ]; then
    uv run --project "$root" phasegate run "$plan" &
    run_pid=$!
    if inject_fault; then
        echo "canary-demo: canary broken at $fault_at % ($fault); watch the rollback"
    else
        echo "canary-demo: the canary never reached $fault_at %; no fault injected" >&2
    fi
    wait "$run_pid"
    rc=$?
    run_pid=""
    expected=1
else
    uv run --project "$root" phasegate run "$plan"
    rc=$?
    expected=0
fi
set -e

if [ "$rc" -eq "$expected" ]; then
    if [ "$expected" -eq 0 ]; then
        echo "canary-demo: promoted; the canary serves 100 %. Details: phasegate report last"
    else
        echo "canary-demo: rolled back automatically as expected. Details: phasegate report last"
    fi
    exit 0
fi
echo "canary-demo: phasegate exited $rc (expected $expected). Details: phasegate report last" >&2
exit "$rc"
