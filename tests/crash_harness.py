"""Crash trials: SIGKILL the engine at random instants, resume like an operator would, and
verify that no finished step ever ran twice and the journal stays consistent.

Used by tests/engine/test_crash.py and as a soak (issue 10 §2.2):

    uv run python bench/crash_soak.py --trials 500 [--minutes 15]

Half the kills fall at a uniformly random instant; the other half wait until a step has
started (its ledger line appears) and kill the engine a few milliseconds later, while the step
still runs, which is the case the step supervisor settles. Resume runs at once, without
waiting for the dead engine's steps to end: never running one twice is resume's job.
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

from phasegate.store.backends import open_journal

STEPS = 6
STEP_SECONDS = 0.08


def plan_text(marker: str) -> str:
    steps = "\n".join(
        f"          - id: s{i}\n"
        f"            run: 'echo step-{i} >> \"$LEDGER\"; sleep {STEP_SECONDS} # {marker}'\n"
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
    kills_mid_step: int = 0  # kills that left a step's process running
    resumes: int = 0
    choices: list[str] = field(default_factory=list)
    status: str = ""
    problems: list[str] = field(default_factory=list)
    duplicated: int = 0  # side effects that happened twice
    lost: int = 0  # a step recorded succeeded that never ran, or an undo that never ran
    recovered: int = 0  # unknowns settled by the supervisor's record, no human asked
    human: int = 0  # unknowns left for a human (--retry-step / --mark-done)
    human_why: list[str] = field(default_factory=list)


def _orphans(marker: str) -> bool:
    """A command of the trial still runs. Its command line names the marker while its shell
    runs; bash then execs the last command (``sleep``) in its place, and the run's supervisor
    puts no shell in between: the environment (``CRASH_TRIAL``, inherited from the engine)
    still names it."""
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                return True
            if b"CRASH_TRIAL=" + needle + b"\0" in (entry / "environ").read_bytes():
                return True
        except OSError:
            continue
    return False


def _wait_orphans(marker: str) -> None:
    # Before the ledger is judged, every command of the trial has ended.
    deadline = time.monotonic() + 10
    while _orphans(marker) and time.monotonic() < deadline:
        time.sleep(0.01)


def run_trial(
    workdir: Path, seed: int, *, fail: bool | None = None, store_url: str | None = None
) -> Trial:
    """One trial; ``store_url``: on that PostgreSQL store (a database of its own) instead of
    the SQLite journal in the trial's state directory."""
    rng = random.Random(seed)
    trial = Trial(seed=seed, fail=rng.random() < 0.5 if fail is None else fail)
    marker = f"crash-trial-{os.getpid()}-{seed}-{rng.getrandbits(32):x}"
    workdir.mkdir(parents=True, exist_ok=True)
    plan = workdir / "plan.yaml"
    plan.write_text(plan_text(marker))
    state_dir = workdir / "state"
    env = {**os.environ, "PHASEGATE_HOME": str(state_dir), "CRASH_TRIAL": marker}
    env.pop("PHASEGATE_DEBUG", None)
    env.pop("PHASEGATE_STORE", None)
    if store_url is not None:
        env["PHASEGATE_STORE"] = store_url
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
        if rng.random() < 0.5:
            # Mid-step: wait for the next ledger line, then kill while the step sleeps.
            lines = len(_ledger(workdir))
            deadline = time.monotonic() + 30
            while len(_ledger(workdir)) == lines and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.002)
            kill_after = rng.uniform(0.0, STEP_SECONDS / 2)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            trial.kills += 1
            trial.kills_mid_step += _orphans(marker)

    run_args = ["run", str(plan), "-q", "--var", f"FAIL={1 if trial.fail else 0}"]
    killed(run_args, rng.uniform(0.0, 1.2))
    for _ in range(40):
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
            _wait_orphans(marker)  # a human looks at the world once it is still
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
    _wait_orphans(marker)
    _verify(trial, workdir, cli)
    _count_unknowns(trial, state_dir, store_url)
    return trial


def _count_unknowns(trial: Trial, state_dir: Path, store_url: str | None) -> None:
    store = open_journal(state_dir, url=store_url)
    try:
        for run_id in store.run_ids():
            for _, _, etype, data in store.events(run_id):
                if etype == "item.finished" and data.get("recovered") == "supervisor":
                    trial.recovered += 1
                elif etype == "item.unknown" and not data.get("idempotent"):
                    trial.human += 1
                    trial.human_why.append(str(data.get("reason") or "no process, no record"))
    finally:
        store.close()


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
            trial.duplicated += lines.count(line) - 1
    status = json.loads(run("status", "last", "--json").stdout)  # type: ignore[operator]
    if trial.status == "succeeded":
        missing = [f"step-{i}" for i in range(STEPS) if f"step-{i}" not in lines]
        if missing:
            trial.problems.append(f"succeeded but {missing} never ran")
            trial.lost += len(missing)
    for phase in status["phases"]:
        for item in phase["items"]:
            succeeded = item["kind"] == "step" and item["status"] == "succeeded"
            if succeeded and _line_for(item["key"]) not in lines:
                trial.problems.append(f"{item['key']} recorded succeeded but never ran")
                trial.lost += 1
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
                trial.lost += lines.count(undo) == 0
    check = run("check", "--json")  # type: ignore[operator]
    if check.returncode != 0:
        trial.problems.append(f"phasegate check: {check.stdout} {check.stderr}")


@dataclass
class Soak:
    """What a series of trials found: the figures docs/performance.md reports."""

    trials: int = 0
    kills: int = 0
    kills_mid_step: int = 0
    resumes: int = 0
    duplicated: int = 0
    lost: int = 0
    recovered: int = 0
    human: int = 0
    violations: int = 0
    seconds: float = 0.0

    def add(self, trial: Trial) -> None:
        self.trials += 1
        self.kills += trial.kills
        self.kills_mid_step += trial.kills_mid_step
        self.resumes += trial.resumes
        self.duplicated += trial.duplicated
        self.lost += trial.lost
        self.recovered += trial.recovered
        self.human += trial.human
        self.violations += bool(trial.problems)

    def summary(self) -> str:
        return (
            f"{self.trials} trials in {self.seconds:.0f}s: {self.kills} SIGKILLs "
            f"({self.kills_mid_step} left a step running), {self.resumes} resumes; "
            f"duplicated side effects {self.duplicated}, lost/phantom effects {self.lost}; "
            f"unknowns resolved automatically {self.recovered}, left for a human {self.human}; "
            f"trials with violations {self.violations}"
        )


def soak(trials: int, seed: int, *, minutes: float | None = None, verbose: bool = True) -> Soak:
    result = Soak()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="phasegate-soak-") as tmp:
        for n in range(trials):
            if minutes is not None and time.monotonic() - started > minutes * 60:
                break
            trial = run_trial(Path(tmp) / f"t{n}", seed + n)
            result.add(trial)
            result.seconds = time.monotonic() - started
            if trial.problems and verbose:
                print(f"trial {n} seed {trial.seed}: {trial.problems}", flush=True)
            elif verbose and (n + 1) % 25 == 0:
                print(result.summary(), flush=True)
    result.seconds = time.monotonic() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument(
        "--minutes", type=float, default=None, help="stop starting trials after this long"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    result = soak(args.trials, args.seed, minutes=args.minutes)
    print(f"seed {args.seed}: {result.summary()}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.__dict__, indent=2) + "\n")
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
