"""Crash trials: SIGKILL the engine at random instants, resume like an operator would, and
verify that no finished step ever ran twice and the journal stays consistent.

Used by tests/engine/test_crash.py (30 trials) and as a soak command:

    uv run python tests/crash_harness.py --trials 500
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

STEPS = 6


def plan_text(marker: str) -> str:
    steps = "\n".join(
        f"          - id: s{i}\n"
        f"            run: 'echo step-{i} >> \"$LEDGER\"; sleep 0.03 # {marker}'\n"
        f"            undo: 'echo undo-{i} >> \"$LEDGER\"; sleep 0.02 # {marker}'"
        for i in range(STEPS)
    )
    return f"""version: 1
name: crash-trial
vars:
  LEDGER: ledger.txt
  FAIL: "0"
phases:
  - id: p
    steps:
{steps.replace("          -", "      -").replace("            ", "        ")}
    gates:
      - command: '[ "$FAIL" != 1 ]'
"""


@dataclass
class Trial:
    seed: int
    fail: bool
    kills: int = 0
    resumes: int = 0
    choices: list[str] = field(default_factory=list)
    status: str = ""
    problems: list[str] = field(default_factory=list)


def _orphans(marker: str) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _wait_orphans(marker: str) -> None:
    # Commands of a killed engine keep running; an operator looks at the world after they end.
    deadline = time.monotonic() + 10
    while _orphans(marker) and time.monotonic() < deadline:
        time.sleep(0.01)


def run_trial(workdir: Path, seed: int, *, fail: bool | None = None) -> Trial:
    rng = random.Random(seed)
    trial = Trial(seed=seed, fail=rng.random() < 0.5 if fail is None else fail)
    marker = f"crash-trial-{os.getpid()}-{seed}-{rng.getrandbits(32):x}"
    workdir.mkdir(parents=True, exist_ok=True)
    plan = workdir / "plan.yaml"
    plan.write_text(plan_text(marker))
    state_dir = workdir / "state"
    env = {**os.environ, "PHASEGATE_HOME": str(state_dir)}
    env.pop("PHASEGATE_DEBUG", None)
    base = [sys.executable, "-m", "phasegate"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
        )

    def killed(args: list[str], kill_after: float | None) -> None:
        proc = subprocess.Popen(
            [*base, *args],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if kill_after is None:
            proc.wait(timeout=120)
            return
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            trial.kills += 1

    run_args = ["run", str(plan), "-q", "--var", f"FAIL={1 if trial.fail else 0}"]
    killed(run_args, rng.uniform(0.0, 1.2))
    for _ in range(40):
        _wait_orphans(marker)
        listing = cli("history", "--json")
        if listing.returncode != 0 or not json.loads(listing.stdout):
            # killed before the run was recorded: nothing happened, start again
            killed(run_args, rng.uniform(0.0, 1.2) if rng.random() < 0.5 else None)
            continue
        status = json.loads(cli("status", "last", "--json").stdout)
        trial.status = status["run"]["status"]
        if trial.status in ("succeeded", "rolled_back", "failed", "rollback_failed"):
            break
        args = ["resume", "last", "-q"]
        pause = status.get("pause") or {}
        if trial.status == "paused" and pause.get("reason") == "unknown":
            ledger = _ledger(workdir)
            for key in pause.get("items", []):
                line = _line_for(key)
                choice = "--mark-done" if line in ledger else "--retry-step"
                args += [choice, key]
                trial.choices.append(f"{choice} {key}")
        trial.resumes += 1
        killed(args, rng.uniform(0.0, 1.0) if rng.random() < 0.3 else None)
    else:
        trial.problems.append("run did not finish after 40 resumes")
    _verify(trial, workdir, cli)
    return trial


def _line_for(key: str) -> str:
    # p/s3 -> step-3 ; undo:p/s3 -> undo-3
    index = key.rsplit("/s", 1)[1]
    return f"undo-{index}" if key.startswith("undo:") else f"step-{index}"


def _ledger(workdir: Path) -> list[str]:
    path = workdir / "ledger.txt"
    return path.read_text().splitlines() if path.exists() else []


def _verify(trial: Trial, workdir: Path, cli: object) -> None:
    run = cli  # type: ignore[assignment]
    lines = _ledger(workdir)
    for line in set(lines):
        if lines.count(line) > 1:
            trial.problems.append(f"{line} appears {lines.count(line)} times: a step re-ran")
    status = json.loads(run("status", "last", "--json").stdout)  # type: ignore[operator]
    if trial.status == "succeeded":
        missing = [f"step-{i}" for i in range(STEPS) if f"step-{i}" not in lines]
        if missing:
            trial.problems.append(f"succeeded but {missing} never ran")
    for phase in status["phases"]:
        for item in phase["items"]:
            succeeded = item["kind"] == "step" and item["status"] == "succeeded"
            if succeeded and _line_for(item["key"]) not in lines:
                trial.problems.append(f"{item['key']} recorded succeeded but never ran")
    if trial.status == "rolled_back":
        completed = {
            i["key"]
            for p in status["phases"]
            for i in p["items"]
            if i["kind"] == "step" and i["status"] == "succeeded"
        }
        for key in completed:
            undo = _line_for("undo:" + key)
            if lines.count(undo) != 1:
                trial.problems.append(f"{key} completed but {undo} appears {lines.count(undo)}x")
    check = run("check", "--json")  # type: ignore[operator]
    if check.returncode != 0:
        trial.problems.append(f"phasegate check: {check.stdout} {check.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    failures = 0
    kills = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="phasegate-soak-") as tmp:
        for n in range(args.trials):
            trial = run_trial(Path(tmp) / f"t{n}", args.seed + n)
            kills += trial.kills
            if trial.problems:
                failures += 1
                print(f"trial {n} seed {trial.seed}: {trial.problems}", flush=True)
            elif (n + 1) % 25 == 0:
                print(f"{n + 1} trials, {kills} kills, {failures} failures", flush=True)
    took = time.monotonic() - started
    print(f"{args.trials} trials ({kills} SIGKILLs) in {took:.0f}s: {failures} with violations")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
