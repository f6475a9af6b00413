"""Issue 12's multi-worker chaos acceptance, on real PostgreSQL.

Three `phasegate worker` processes execute 60 runs whose steps are NOT idempotent: each
appends a line to a ledger. Meanwhile workers are SIGKILLed at random (their runs die with
them, as on a lost host) and restarted, and the database sessions of run owners are cut
(``pg_terminate_backend``). Afterwards:

- every run reaches a terminal state (a run whose step outcome nobody could know waits for a
  human, as the journal rules say; the test then acts as that human, with the ledger as the
  evidence, and counts it);
- no ledger line appears twice, none is missing;
- no run ever had two owners writing: the owner epoch of each run's events never goes back
  (store/postgres/ownership.py), which `phasegate check` verifies, and it is clean.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import psycopg
from canary_lab.process import descendants

from phasegate.engine.session import RunOptions, create
from phasegate.plan.loader import load_plan
from phasegate.server.queue import Dispatcher, payload
from phasegate.store.postgres import PostgresStore
from tests.workers.conftest import Workers

RUNS = 60
STEPS = 3
WORKERS = 3
MIN_KILLS = 20
MIN_CUTS = 4
TERMINAL = {"succeeded", "failed", "rolled_back", "rollback_failed"}


def _plans(directory: Path, ledger: Path) -> list[Path]:
    plans = []
    for n in range(RUNS):
        steps = "".join(
            f'      - name: s{k}\n        run: sleep 1; echo "$RUN_ID s{k}" >> {ledger}\n'
            for k in range(STEPS)
        )
        path = directory / f"chaos-{n:02d}.yaml"
        path.write_text(
            f"version: 1\nname: chaos-{n:02d}\nphases:\n  - id: deploy\n    steps:\n{steps}"
        )
        plans.append(path)
    return plans


def _submit(url: str, state: Path, plans: list[Path]) -> list[str]:
    store = PostgresStore(url, state_dir=state)
    dispatcher = Dispatcher(url, "test")
    try:
        ids = []
        for plan in plans:
            run_id, created = create(store, load_plan(str(plan)), RunOptions(started_by="chaos"))
            assert created
            dispatcher.defer(payload(run_id, "resume", "chaos"))
            ids.append(run_id)
        return ids
    finally:
        dispatcher.close()
        store.close()


def _statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {str(r[0]): str(r[1]) for r in conn.execute("SELECT id, status FROM runs")}


def _owners(url: str) -> set[int]:
    """The pids recorded as owners of the runs now running."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT owner_pid FROM runs WHERE status = 'running' AND owner_pid IS NOT NULL"
        ).fetchall()
    return {int(r[0]) for r in rows}


def _cut_an_owner(url: str, rng: random.Random) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            int(r[0])
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'phasegate owner %'"
            )
        ]
        if not pids:
            return False
        conn.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
        return True


def _act_as_a_human(workers: Workers, run_id: str, ledger_lines: set[str]) -> None:
    """A run paused on an unknown step: the ledger says whether the step ran."""
    done = workers.cli("status", run_id, "--json")
    pause = json.loads(done.stdout).get("pause") or {}
    assert pause.get("reason") == "unknown", pause
    args = []
    for key in pause.get("items", []):
        step = key.rsplit("/", 1)[-1]
        ran = f"{run_id} {step}" in ledger_lines
        args += ["--mark-done" if ran else "--retry-step", key]
    resumed = workers.cli("resume", run_id, *args, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr


def test_three_workers_killed_at_random_lose_and_duplicate_nothing(
    workers: Workers, tmp_path: Path
) -> None:
    seed = int(os.environ.get("PHASEGATE_CHAOS_SEED", random.randrange(2**31)))
    rng = random.Random(seed)
    ledger = tmp_path / "ledger"
    ledger.touch()
    plan_dir = tmp_path / "plans"
    plan_dir.mkdir()
    ids = _submit(workers.url, workers.state, _plans(plan_dir, ledger))
    live = [workers.start("--max-runs", "4", "--takeover-within", "3") for _ in range(WORKERS)]

    kills = cuts = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        statuses = _statuses(workers.url)
        settled = all(s in TERMINAL or s == "paused" for s in statuses.values())
        if settled and kills >= MIN_KILLS and cuts >= MIN_CUTS:
            break
        time.sleep(rng.uniform(0.8, 2.0))
        if kills >= MIN_KILLS and cuts >= MIN_CUTS:
            continue
        if cuts < MIN_CUTS and (kills >= MIN_KILLS or rng.random() < 0.3):
            cuts += _cut_an_owner(workers.url, rng)
            continue
        # A worker that owns a running run, when one does (a kill of an idle worker takes
        # nothing over; on a fast or loaded machine many would be idle).
        busy = _owners(workers.url)
        holding = [i for i, proc in enumerate(live) if {proc.pid, *descendants(proc.pid)} & busy]
        victim = rng.choice(holding) if holding else rng.randrange(WORKERS)
        os.kill(live[victim].pid, signal.SIGKILL)
        live[victim].wait(timeout=30)
        kills += 1
        live[victim] = workers.start("--max-runs", "4", "--takeover-within", "3")
    statuses = _statuses(workers.url)
    assert kills >= MIN_KILLS and cuts >= MIN_CUTS, (seed, kills, cuts, statuses)

    humans = 0
    lines = ledger.read_text().splitlines()
    for run_id, status in sorted(statuses.items()):
        if status == "paused":
            _act_as_a_human(workers, run_id, set(lines))
            humans += 1
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        statuses = _statuses(workers.url)
        if all(s in TERMINAL for s in statuses.values()):
            break
        time.sleep(0.5)
    assert set(statuses) == set(ids)
    assert Counter(statuses.values()) == {"succeeded": RUNS}, (seed, statuses)

    lines = ledger.read_text().splitlines()
    counts = Counter(lines)
    assert [line for line, n in counts.items() if n > 1] == [], seed  # nothing twice
    assert set(counts) == {f"{r} s{k}" for r in ids for k in range(STEPS)}, seed  # nothing lost

    checked = workers.cli("check", "--json")
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["ok"], report["violations"]
    with psycopg.connect(workers.url, autocommit=True) as conn:
        taken_over = conn.execute("SELECT count(*) FROM runs WHERE owner_epoch > 2").fetchone()
    assert taken_over is not None and taken_over[0] >= 5, "the chaos took nothing over"
    print(
        f"seed {seed}: {kills} worker kills, {cuts} sessions cut, {taken_over[0]} runs "
        f"taken over, {humans} runs settled by a human"
    )
