#!/usr/bin/env bash
# Build a sandbox for examples/seeds/003-plms.yaml (seed 003, the PLMS Tier 1 7-day rollout).
#
#   make-sandbox.sh DIR
#
# creates, standing in for the seed's production host:
#   DIR/artifacts/registry/registry.db   the registry (project_runs, lane_configs,
#                                        system_config, estimate_versions), made with sqlite3
#   DIR/scripts/check_plms_invariants.py the invariants checker: --db DB --strict --json prints
#                                        {"status": "OK"|"FAIL", "violations": N}; exit 1 on FAIL
#   DIR/scripts/run_invariants.sh        runs the checker and logs to DIR/log/
#   DIR/tests/demos/demo_{1,2,3}_*.sh    the three demos; demo 2 reports its tokens
#   DIR/bin/plms                         the PLMS service stand-in: healthz, start PROJECT
#                                        KIND TOKENS (prints tokens=N), cancel PROJECT
#   DIR/deployment/systemd/              where the plan exports the invariants timer
#   DIR/backups/ DIR/log/ DIR/docs/PRDs/
# and prints the --var flags for `phasegate run`.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
root=$1
if [ -e "$root/artifacts" ]; then
    echo "$0: $root already holds a sandbox; remove it first" >&2
    exit 1
fi
umask 022
mkdir -p "$root/artifacts/registry" "$root/scripts" "$root/tests/demos" "$root/bin" \
    "$root/deployment/systemd" "$root/backups" "$root/log" "$root/docs/PRDs" "$root/projects"

sqlite3 "$root/artifacts/registry/registry.db" <<'EOF'
CREATE TABLE project_runs (project_id INTEGER, run_kind TEXT, status TEXT DEFAULT 'completed',
                           tokens_actual INTEGER, validation_pass INTEGER DEFAULT 1);
CREATE TABLE lane_configs (lane_name TEXT PRIMARY KEY, max_concurrent INTEGER);
CREATE TABLE system_config (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE estimate_versions (lane_name TEXT, phase_name TEXT, mean_tokens REAL,
                                created_at TEXT DEFAULT CURRENT_TIMESTAMP);
INSERT INTO project_runs (project_id, run_kind, tokens_actual) VALUES (1, 'baseline', 9100),
    (2, 'hotfix', 4200);
INSERT INTO lane_configs VALUES ('Code-API', 999), ('Data-Schema', 999), ('Narrative', 999),
    ('Viz-Charts', 999);
INSERT INTO system_config VALUES ('calibration_enabled', 'false'),
    ('accept_new_projects', 'true');
EOF

cat > "$root/scripts/check_plms_invariants.py" <<'EOF'
#!/usr/bin/env python3
"""The invariants checker: every project run has a known run_kind."""
import argparse
import json
import sqlite3
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--db", required=True)
parser.add_argument("--strict", action="store_true")
parser.add_argument("--json", action="store_true")
args = parser.parse_args()
db = sqlite3.connect(args.db)
bad = db.execute(
    "SELECT COUNT(*) FROM project_runs WHERE run_kind NOT IN ('baseline', 'hotfix', 'rehearsal')"
).fetchone()[0]
report = {"status": "OK" if bad == 0 else "FAIL", "violations": bad}
print(json.dumps(report))
sys.exit(0 if bad == 0 else 1)
EOF

cat > "$root/scripts/run_invariants.sh" <<EOF
#!/usr/bin/env bash
# The nightly job the systemd timer runs: the checker, logged.
set -uo pipefail
out=\$("$root/scripts/check_plms_invariants.py" --db "$root/artifacts/registry/registry.db" --strict --json)
rc=\$?
echo "\$(date -u +%FT%TZ) \$out" >> "$root/log/invariants.log"
echo "\$out"
exit \$rc
EOF

cat > "$root/bin/plms" <<EOF
#!/usr/bin/env bash
# The PLMS services, as far as the rollout plan sees them.
set -euo pipefail
db="$root/artifacts/registry/registry.db"
case "\${1:-}" in
    healthz) echo '{"status": "ok", "redis": true, "db": true, "filesystem": true}' ;;
    start)   # start PROJECT RUN_KIND TOKENS: a project run; prints what it used
        sqlite3 "\$db" "INSERT INTO project_runs (project_id, run_kind, tokens_actual) VALUES (\$2, '\$3', \$4);"
        touch "$root/projects/\$2.started"
        echo "project \$2 (\$3) completed"
        echo "tokens=\$4" ;;
    cancel)  rm -f "$root/projects/\$2.started"; echo "project \$2 cancelled" ;;
    *) echo "usage: plms healthz|start PROJECT KIND TOKENS|cancel PROJECT" >&2; exit 2 ;;
esac
EOF

cat > "$root/tests/demos/demo_1_idempotent_start.sh" <<'EOF'
#!/usr/bin/env bash
echo "✓ First call: status=submitted, run_id=xyz"
echo "✓ Second call (same key): Idempotent-Replay=true, run_id=xyz (unchanged)"
echo "✓ Third call (new key): status=submitted, run_id=abc (new)"
EOF
cat > "$root/tests/demos/demo_2_representative_canary.sh" <<'EOF'
#!/usr/bin/env bash
echo "✓ Rehearsal with 1%: strata_coverage=1.0 (all strata represented)"
echo "✓ Projected tokens: ~15,000 (100x of 150)"
echo "✓ Risk score: 0.12 (acceptable)"
EOF
cat > "$root/tests/demos/demo_3_kpi_gated_completion.sh" <<'EOF'
#!/usr/bin/env bash
echo "✓ KPI validator passes (test_pass_rate = 1.0)"
echo "✓ Calibration accepts run (updates priors)"
EOF
chmod 0755 "$root/scripts/"*.py "$root/scripts/"*.sh "$root/bin/plms" "$root/tests/demos/"*.sh

echo "--var SANDBOX=$root"
