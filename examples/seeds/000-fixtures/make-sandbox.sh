#!/usr/bin/env bash
# Build a sandbox for examples/seeds/000-gates.yaml.
#
#   make-sandbox.sh DIR
#
# creates
#   DIR/repo/Control_Plane/   a tiny Control Plane as it is before the rollout:
#       cp.py                             CLI with `apply` and `validate`, no `gate` yet
#       scripts/apply_spec_pack.py        SPECS_DIR still points into templates/spec_pack/
#       scripts/validate_spec_pack.py     likewise
#       modules/design_framework/README.md
#       modules/design_framework/templates/*.md         the 8 spec pack templates (TODOs)
#       modules/design_framework/templates/spec_pack/   the deprecated inner templates
#       docs/specs/README.md
#   DIR/change/               the change set being rolled out: gate.py, the new cp.py, the new
#                             README.md, and PROOF-001/ (the completed spec pack content)
# and prints the --var flags for `phasegate run`.
#
# The sandbox's gate.py fails on purpose for each gate id listed in $GATE_FAIL (e.g. "G1"); the
# plan uses that for rollback drills. No script imports another one, so running them leaves no
# __pycache__ behind.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
root=$1
if [ -e "$root/repo" ] || [ -e "$root/change" ]; then
    echo "$0: $root already holds a sandbox; remove it first" >&2
    exit 1
fi
umask 022
cp_dir="$root/repo/Control_Plane"
framework="$cp_dir/modules/design_framework"
change="$root/change"
mkdir -p "$cp_dir/scripts" "$framework/templates/spec_pack" "$cp_dir/docs/specs" \
    "$change/PROOF-001"

sections="00_overview 01_problem 02_solution 03_requirements 04_design 05_test_plan 06_rollout
07_rollback"
for section in $sections; do
    title=${section#*_}
    printf '# %s\n\nTODO: describe the %s.\n' "$title" "$title" > "$framework/templates/$section.md"
    printf '# %s\n\nPROOF-001, Design Framework Integration: %s written and reviewed.\n' \
        "$title" "$title" > "$change/PROOF-001/$section.md"
done
printf '# Spec pack (deprecated inner copy)\n\nTODO: fill in.\n' \
    > "$framework/templates/spec_pack/spec_template.md"
printf '# Checklist (deprecated inner copy)\n' > "$framework/templates/spec_pack/checklist.md"
printf '# Specs\n\nOne directory per spec pack.\n' > "$cp_dir/docs/specs/README.md"
printf '# Design Framework\n\nCreate a spec pack: `python3 Control_Plane/cp.py apply SPEC_ID`.\n' \
    > "$framework/README.md"
{
    printf '# Design Framework\n\nCreate a spec pack: `python3 Control_Plane/cp.py apply SPEC_ID`.\n\n'
    printf '## Gates\n\nRun `python3 Control_Plane/cp.py gate G0|G1|--all SPEC_ID`; each gate\n'
    printf 'writes its log to docs/specs/SPEC_ID/artifacts/gate_logs/.\n'
} > "$change/README.md"

cat > "$cp_dir/scripts/apply_spec_pack.py" <<'PY'
#!/usr/bin/env python3
"""Create a spec pack from the Design Framework templates."""
import argparse
import shutil
import sys
from pathlib import Path

CONTROL_PLANE = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = CONTROL_PLANE / "modules" / "design_framework" / "templates"
SPECS_DIR = CONTROL_PLANE / "modules" / "design_framework" / "templates" / "spec_pack" / "specs"


def main() -> int:
    parser = argparse.ArgumentParser(prog="apply_spec_pack.py", description=__doc__)
    parser.add_argument("--target", help="spec id, e.g. PROOF-001")
    parser.add_argument("--specs-dir", action="store_true", help="print SPECS_DIR and exit")
    args = parser.parse_args()
    if args.specs_dir:
        print(SPECS_DIR)
        return 0
    if not args.target:
        parser.error("--target is required")
    if not SPECS_DIR.is_dir():
        print(f"apply_spec_pack: SPECS_DIR {SPECS_DIR} does not exist", file=sys.stderr)
        return 1
    pack = SPECS_DIR / args.target
    if pack.exists():
        print(f"apply_spec_pack: {pack} already exists", file=sys.stderr)
        return 1
    pack.mkdir()
    for template in sorted(TEMPLATES_DIR.glob("*.md")):
        shutil.copyfile(template, pack / template.name)
        print(f"created {pack / template.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
PY

cat > "$cp_dir/scripts/validate_spec_pack.py" <<'PY'
#!/usr/bin/env python3
"""Check that a spec pack has its 8 files."""
import argparse
import sys
from pathlib import Path

CONTROL_PLANE = Path(__file__).resolve().parents[1]
SPECS_DIR = CONTROL_PLANE / "modules" / "design_framework" / "templates" / "spec_pack" / "specs"
EXPECTED = 8


def main() -> int:
    parser = argparse.ArgumentParser(prog="validate_spec_pack.py", description=__doc__)
    parser.add_argument("spec_id", nargs="?")
    parser.add_argument("--specs-dir", action="store_true", help="print SPECS_DIR and exit")
    args = parser.parse_args()
    if args.specs_dir:
        print(SPECS_DIR)
        return 0
    if not args.spec_id:
        parser.error("SPEC_ID is required")
    files = sorted((SPECS_DIR / args.spec_id).glob("*.md"))
    print(f"{args.spec_id}: {len(files)} of {EXPECTED} files")
    return 0 if len(files) == EXPECTED else 1


if __name__ == "__main__":
    sys.exit(main())
PY

cat > "$cp_dir/cp.py" <<'PY'
#!/usr/bin/env python3
"""Control Plane command line."""
import argparse
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def main() -> int:
    parser = argparse.ArgumentParser(prog="cp.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("apply", help="create a spec pack").add_argument("spec_id")
    commands.add_parser("validate", help="validate a spec pack").add_argument("spec_id")
    args = parser.parse_args()
    if args.command == "apply":
        argv = [str(SCRIPTS / "apply_spec_pack.py"), "--target", args.spec_id]
    else:
        argv = [str(SCRIPTS / "validate_spec_pack.py"), args.spec_id]
    return subprocess.call([sys.executable, *argv])


if __name__ == "__main__":
    sys.exit(main())
PY

cat > "$change/cp.py" <<'PY'
#!/usr/bin/env python3
"""Control Plane command line."""
import argparse
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def main() -> int:
    parser = argparse.ArgumentParser(prog="cp.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("apply", help="create a spec pack").add_argument("spec_id")
    commands.add_parser("validate", help="validate a spec pack").add_argument("spec_id")
    gate = commands.add_parser("gate", help="run gates on a spec pack: G0, G1 or --all")
    gate.add_argument("gate", nargs="?", choices=["G0", "G1"])
    gate.add_argument("--all", action="store_true", help="run every gate in order")
    gate.add_argument("spec_id")
    args = parser.parse_args()
    if args.command == "apply":
        argv = [str(SCRIPTS / "apply_spec_pack.py"), "--target", args.spec_id]
    elif args.command == "validate":
        argv = [str(SCRIPTS / "validate_spec_pack.py"), args.spec_id]
    else:
        if bool(args.all) == bool(args.gate):
            gate.error("give one gate (G0, G1) or --all")
        argv = [str(SCRIPTS / "gate.py"), "--all" if args.all else args.gate, args.spec_id]
    return subprocess.call([sys.executable, *argv])


if __name__ == "__main__":
    sys.exit(main())
PY

cat > "$change/gate.py" <<'PY'
#!/usr/bin/env python3
"""Run Design Framework gates on a spec pack.

G0  structure: the spec pack has its 8 files
G1  completeness: no file of the spec pack still holds a TODO

Each gate writes docs/specs/SPEC_ID/artifacts/gate_logs/GATE.log. Sandbox hook: a gate named
in $GATE_FAIL (comma-separated) fails on purpose.
"""
import argparse
import os
import sys
import time
from pathlib import Path

CONTROL_PLANE = Path(__file__).resolve().parents[1]
SPECS_DIR = CONTROL_PLANE / "docs" / "specs"
EXPECTED_FILES = 8
GATES = ("G0", "G1")


def run_gate(gate: str, pack: Path) -> bool:
    files = sorted(pack.glob("*.md"))
    if gate == "G0":
        problems = [] if len(files) == EXPECTED_FILES else [
            f"{len(files)} files, expected {EXPECTED_FILES}"]
    else:
        problems = [f"{f.name} still has a TODO" for f in files if "TODO" in f.read_text()]
    if gate in os.environ.get("GATE_FAIL", "").split(","):
        problems.append("failed on purpose ($GATE_FAIL)")
    logs = pack / "artifacts" / "gate_logs"
    logs.mkdir(parents=True, exist_ok=True)
    lines = [f"{gate} {pack.name} {time.strftime('%Y-%m-%dT%H:%M:%S')}", *problems,
             "FAIL" if problems else "PASS"]
    (logs / f"{gate}.log").write_text("\n".join(lines) + "\n")
    print(f"{gate}: {'FAIL' if problems else 'PASS'}" + "".join(f"\n  {p}" for p in problems))
    return not problems


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="gate.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("gate", nargs="?", choices=GATES)
    parser.add_argument("--all", action="store_true", help="run every gate in order")
    parser.add_argument("spec_id")
    args = parser.parse_args()
    if bool(args.all) == bool(args.gate):
        parser.error("give one gate (G0, G1) or --all")
    pack = SPECS_DIR / args.spec_id
    if not pack.is_dir():
        print(f"gate.py: no spec pack {pack}", file=sys.stderr)
        return 2
    gates = GATES if args.all else (args.gate,)
    results = [run_gate(gate, pack) for gate in gates]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
PY

chmod 0755 "$cp_dir/cp.py" "$cp_dir/scripts/"*.py "$change/cp.py" "$change/gate.py"
echo "--var REPO=$root/repo --var CHANGES=$change"
