"""Crash trials of a program: SIGKILL the *parent* engine at random instants (its child runs,
in process groups of their own, go on, as they would), resume the parent like an operator,
and verify that no child step or undo ever ran twice, that each phase has at most one child
run, and that the program ends succeeded or rolled back with every completed child undone
exactly once.

Used by tests/programs/test_program_crash.py (a few trials) and bench/program_crash.py (30+).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.programs.builders import ledger, program

CHILDREN = 3
STEP_SECONDS = 0.1


@dataclass
class ProgramTrial:
    seed: int
    fail: bool
    kills: int = 0
    resumes: int = 0
    status: str = ""
    problems: list[str] = field(default_factory=list)


def _history(cli: object) -> list[dict[str, object]]:
    result = cli("history", "--json", "--limit", "100")  # type: ignore[operator]
    if result.returncode != 0:
        return []
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def run_trial(workdir: Path, seed: int, *, fail: bool | None = None) -> ProgramTrial:
    rng = random.Random(seed)
    trial = ProgramTrial(seed=seed, fail=rng.random() < 0.5 if fail is None else fail)
    workdir.mkdir(parents=True, exist_ok=True)
    plan = program(
        workdir, children=CHILDREN, failing=CHILDREN if trial.fail else None, sleep=STEP_SECONDS
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env["PHASEGATE_HOME"] = str(workdir / "state")
    base = [sys.executable, "-m", "phasegate"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
        )

    def killed(args: list[str], kill_after: float | None) -> None:
        proc = subprocess.Popen(
            [*base, *args],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=kill_after if kill_after is not None else 300)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)  # the parent only: its children live on
            proc.wait()
            trial.kills += 1

    # A program of three children takes a few seconds here: kills land anywhere in it.
    killed(["run", str(plan), "-q"], rng.uniform(0.2, 8.0))
    parent_id = None
    for _ in range(30):
        parents = [r for r in _history(cli) if r["plan_name"] == "program"]
        if not parents:
            killed(["run", str(plan), "-q"], rng.uniform(0.2, 8.0) if rng.random() < 0.5 else None)
            continue
        parent_id = str(parents[0]["id"])
        status = json.loads(cli("status", parent_id, "--json").stdout)
        trial.status = status["run"]["status"]
        if trial.status in ("succeeded", "rolled_back", "failed", "rollback_failed"):
            break
        trial.resumes += 1
        again = rng.random() < 0.3
        killed(["resume", parent_id, "-q"], rng.uniform(0.2, 5.0) if again else None)
    else:
        trial.problems.append("program did not finish after 30 resumes")
    _settle(workdir)
    if parent_id is not None:
        _verify(trial, workdir, cli, parent_id)
    return trial


def _settle(workdir: Path) -> None:
    """Child processes a killed parent left may still be finishing: wait until the ledger is
    still for a moment before judging it."""
    last: list[str] = []
    still = 0.0
    deadline = time.monotonic() + 60
    while still < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = ledger(workdir)
        still = still + 0.1 if now == last else 0.0
        last = now


def _verify(trial: ProgramTrial, workdir: Path, cli: object, parent_id: str) -> None:
    lines = ledger(workdir)
    for line in sorted(set(lines)):
        if lines.count(line) > 1:
            trial.problems.append(f"{line} ran {lines.count(line)} times")
    runs = _history(cli)
    for n in range(1, CHILDREN + 1):
        made = [r for r in runs if r["plan_name"] == f"child-{n}"]
        if len(made) > 1:
            trial.problems.append(f"child-{n} has {len(made)} runs")
    expected = "rolled_back" if trial.fail else "succeeded"
    if trial.status != expected:
        trial.problems.append(f"program ended {trial.status}, expected {expected}")
    for n in range(1, CHILDREN + 1):
        for i in (1, 2):
            ran = f"child-{n}-step-{i}" in lines
            undone = f"child-{n}-undo-{i}" in lines
            if trial.status == "rolled_back" and ran and not undone:
                trial.problems.append(f"child-{n}-step-{i} ran but was never undone")
            if trial.status == "succeeded" and (not ran or undone):
                trial.problems.append(f"succeeded but child-{n}-step-{i} ran={ran} undone={undone}")
    status = json.loads(cli("status", parent_id, "--json").stdout)  # type: ignore[operator]
    for child in (status.get("program") or {}).get("children", []):
        shown = cli("status", str(child["run"]), "--json")  # type: ignore[operator]
        if shown.returncode != 0:
            trial.problems.append(f"child {child['phase']}: {shown.stderr.strip()}")
            continue
        own = json.loads(shown.stdout)
        want = "rolled_back" if trial.status == "rolled_back" else "succeeded"
        if own["run"]["status"] != want:
            trial.problems.append(f"child {child['phase']} is {own['run']['status']}")
    check = cli("check", "--json")  # type: ignore[operator]
    if check.returncode != 0:
        trial.problems.append(f"phasegate check: {check.stdout} {check.stderr}")
