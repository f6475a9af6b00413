#!/bin/sh
# The canary lab (examples/canary-lab.md): real backends, nginx or haproxy, Prometheus and
# load on 127.0.0.1. Works from any directory; the lab's files go to ./.canary-lab unless
# --dir says otherwise.
#   examples/canary-lab.sh up [--router haproxy] [--rate 50]
#   examples/canary-lab.sh fault canary --error-rate 0.5
set -eu
examples=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
PYTHONPATH="$examples${PYTHONPATH:+:$PYTHONPATH}" exec uv run --project "$examples/.." \
    --all-groups python -m canary_lab "$@"
