"""What a command loads: a plan that reaches no host over SSH, serves nothing and imports no
Markdown must not pay for asyncssh, the web server, PostgreSQL or the Markdown parser.

Each of these costs tens to hundreds of milliseconds of every command's start-up (asyncssh and
its cryptography alone were a quarter of `phasegate status`), and tests and scripts call the
CLI thousands of times. The check is on what is imported, not on a time (machines are noisy).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the real console entry point in-process, then prints the top-level modules it loaded.
PROBE = """
import json, sys
from phasegate.cli import main
sys.argv = ["phasegate", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""

HEAVY = {"asyncssh", "cryptography", "fastapi", "starlette", "uvicorn", "psycopg", "markdown_it"}

PLAN = """\
version: 1
name: tiny
phases:
  - id: a
    steps:
      - id: s
        run: ["true"]
"""


def loaded(*args: str, cwd: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "plan.yaml"),
        ("run", "plan.yaml", "--state-dir", "state"),
        ("status", "--state-dir", "state"),
        ("report", "--state-dir", "state", "last"),
    ],
    ids=lambda a: a[0],
)
def test_a_local_plan_loads_no_ssh_server_postgres_or_markdown(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    if args[0] in {"status", "report"}:
        loaded("run", "plan.yaml", "--state-dir", "state", cwd=tmp_path)
    modules = loaded(*args, cwd=tmp_path)
    assert "phasegate" in modules and "pydantic" in modules  # the probe really ran the CLI
    assert not (modules & HEAVY), f"phasegate {args[0]} imported {sorted(modules & HEAVY)}"


def loaded_modules(*args: str, cwd: Path) -> set[str]:
    """Every module (dotted names) the command loaded, and its exit status checked."""
    probe = PROBE.replace('m.split(".")[0] for m in sys.modules', "m for m in sys.modules")
    out = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


# Loaded only by a run that uses them (docs/performance.md, "Engine overhead: fewer loop
# turns, feature modules on demand" and "sixth pass"): the policy engines (a pack), cron
# schedules (a schedule's facts), the fleet's SSH and batching (a phase with hosts), the
# estimator (a budget to watch, change windows' p90s).
FEATURES = {
    "phasegate.policy",
    "phasegate.schedules",
    "phasegate.engine.fleet",
    "phasegate.engine.fleet_hosts",
    "phasegate.executors.ssh",
    "phasegate.estimate.estimator",
    "phasegate.estimate.backtest",
}


def test_a_plain_run_loads_no_policy_engine_or_schedules(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    modules = loaded_modules("run", "plan.yaml", "--state-dir", "state", cwd=tmp_path)
    assert "phasegate.engine.runner" in modules  # the run really ran
    assert (tmp_path / "state").is_dir()
    assert not (modules & FEATURES), f"a plain run imported {sorted(modules & FEATURES)}"
    # ...and it recorded its durations digest at its end (estimate/digest.py, loaded alone).
    assert "phasegate.estimate.digest" in modules


def test_a_run_with_a_pack_loads_the_policy_engine(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    pack = tmp_path / "pack"
    pack.mkdir()
    args = ("--policies", str(pack), "run", "plan.yaml", "--state-dir", "state")
    modules = loaded_modules(*args, cwd=tmp_path)
    assert "phasegate.policy.pack" in modules


def test_the_cli_reads_the_policy_packs_variable_the_pack_module_names() -> None:
    from phasegate.cli.policy import POLICIES_ENV
    from phasegate.policy.pack import ENV

    assert POLICIES_ENV == ENV


GC_PROBE = """
import gc, json, sys
from phasegate.cli import main
sys.argv = ["phasegate", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nGC " + json.dumps([gc.get_freeze_count(), list(gc.get_threshold()), gc.isenabled()]))
"""


def collector(*args: str, cwd: Path) -> tuple[int, list[int], bool]:
    out = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("GC "))
    frozen, threshold, enabled = json.loads(line.removeprefix("GC "))
    return frozen, threshold, enabled


def test_a_verb_that_drives_a_run_freezes_its_imports_and_collects_young_objects_less_often(
    tmp_path: Path,
) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    frozen, threshold, enabled = collector("run", "plan.yaml", "--state-dir", "state", cwd=tmp_path)
    assert frozen > 10_000  # the engine's modules and classes left the generations
    assert threshold[0] == 10_000
    assert enabled  # held while the engine was imported, collecting again for the run
    # A verb that runs nothing keeps the interpreter's defaults.
    frozen, threshold, enabled = collector("validate", "plan.yaml", cwd=tmp_path)
    assert frozen == 0 and threshold[0] == 700 and enabled
