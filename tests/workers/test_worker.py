"""`phasegate submit` queues a run, a `phasegate worker` executes it; a killed worker's run is
taken over by another."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.workers.conftest import Workers


def _plan(path: Path, name: str, ledger: Path, steps: int = 2, sleep: float = 0.0) -> Path:
    body = [f"version: 1\nname: {name}\nphases:\n  - id: deploy\n    steps:\n"]
    for n in range(steps):
        body.append(
            f'      - name: s{n}\n        run: sleep {sleep}; echo "$RUN_ID s{n}" >> {ledger}\n'
        )
    path.write_text("".join(body))
    return path


def _status(workers: Workers, run_id: str) -> str:
    done = workers.cli("status", run_id, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["run"]["status"])


def _wait_for(workers: Workers, run_id: str, statuses: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = _status(workers, run_id)
        if status in statuses:
            return status
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} is {status}, not {statuses}, after {timeout}s")


def test_a_submitted_run_is_executed_by_a_worker(workers: Workers, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    plan = _plan(tmp_path / "p.yaml", "alpha", ledger)
    done = workers.cli("submit", str(plan), "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]
    assert _status(workers, run_id) == "pending"  # nobody executes it yet
    workers.start("--max-runs", "2")
    assert _wait_for(workers, run_id, {"succeeded", "failed"}, 60) == "succeeded"
    lines = ledger.read_text().splitlines()
    assert lines == [f"{run_id} s0", f"{run_id} s1"]


def test_a_worker_needs_a_reachable_postgresql_store_and_never_shows_its_password(
    workers: Workers, tmp_path: Path
) -> None:
    import subprocess
    import sys

    bare = subprocess.run(
        [sys.executable, "-m", "phasegate", "--state-dir", str(tmp_path / "s"), "worker"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in workers.env().items() if k != "PHASEGATE_STORE"},
    )
    assert bare.returncode == 2
    assert "needs the shared PostgreSQL store" in bare.stderr
    down = subprocess.run(
        [
            sys.executable,
            "-m",
            "phasegate",
            "--store",
            "postgresql://u:hunter2@127.0.0.1:1/db",
            "worker",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode != 0
    assert "cannot connect to the PostgreSQL store postgresql://u:***@127.0.0.1:1/db" in (
        down.stderr
    )
    assert "hunter2" not in down.stdout + down.stderr
    assert "Traceback" not in down.stderr


def test_submit_refuses_secret_values_and_unreviewed_markdown(
    workers: Workers, tmp_path: Path
) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "version: 1\nname: s\nvars:\n  TOKEN: {secret: true}\nphases:\n"
        "  - id: a\n    steps:\n      - run: echo hi\n"
    )
    refused = workers.cli("submit", str(plan), "--var", "TOKEN=hunter2")
    assert refused.returncode == 2, refused.stderr
    assert "--var TOKEN: a secret value cannot be queued" in refused.stderr
    assert "hunter2" not in refused.stdout + refused.stderr
    doc = tmp_path / "runbook.md"
    doc.write_text("# Deploy\n\n```bash\necho hi\n```\n")
    markdown = workers.cli("submit", str(doc))
    assert markdown.returncode == 2
    assert "only after a person reviewed its import" in markdown.stderr
    listed = workers.cli("history", "--json")
    assert json.loads(listed.stdout) == []  # nothing was created, nothing queued


def test_a_killed_workers_run_is_taken_over_and_its_step_not_repeated(
    workers: Workers, tmp_path: Path
) -> None:
    """The owner's worker is SIGKILLed while a non-idempotent step runs: its run dies with
    it, the other worker resumes it, waits for the step the dead owner left running and
    takes its outcome from the supervisor's record: the step's line appears once."""
    import os
    import signal

    import psycopg

    ledger = tmp_path / "ledger"
    plan = _plan(tmp_path / "p.yaml", "beta", ledger, steps=2, sleep=3.0)
    first = workers.start("--takeover-within", "3")
    time.sleep(1.5)
    done = workers.cli("submit", str(plan), "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]
    _wait_for(workers, run_id, {"running"}, 60)
    second = workers.start("--takeover-within", "3")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert _wait_for(workers, run_id, {"succeeded", "failed", "paused"}, 120) == "succeeded"
    assert ledger.read_text().splitlines() == [f"{run_id} s0", f"{run_id} s1"]
    events = json.loads(workers.cli("status", run_id, "--json").stdout)
    assert events["run"]["status"] == "succeeded"
    with psycopg.connect(workers.url, autocommit=True) as conn:
        epochs = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT owner_epoch FROM events WHERE run_id = %s AND owner_epoch"
                " IS NOT NULL ORDER BY 1",
                (run_id,),
            )
        ]
        resumed = conn.execute(
            "SELECT count(*) FROM events WHERE run_id = %s AND type = 'run.resumed'", (run_id,)
        ).fetchone()
    assert len(epochs) >= 2  # two owners, one after the other
    assert resumed is not None and resumed[0] >= 1
    assert second.poll() is None


def test_a_workers_runs_see_only_the_allowed_environment(workers: Workers, tmp_path: Path) -> None:
    """The worker's environment holds the store URL with its password ($PHASEGATE_STORE):
    a step sees only the base set and what --pass-env names, and no process of the run has
    the password in its command line."""
    from urllib.parse import urlsplit

    dump = tmp_path / "env.txt"
    plan = tmp_path / "p.yaml"
    plan.write_text(
        f"version: 1\nname: envcheck\nphases:\n  - id: a\n    steps:\n      - run: env > {dump}\n"
    )
    workers.start("--pass-env", "DEPLOY_REGION")
    done = workers.cli("submit", str(plan), "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]
    # The test environment of the worker: DEPLOY_REGION and SECRET_THING are set below.
    assert _wait_for(workers, run_id, {"succeeded", "failed"}, 60) == "succeeded"
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    password = urlsplit(workers.url).password
    assert password and password not in dump.read_text()
    assert "PHASEGATE_STORE" not in seen
    assert seen.get("DEPLOY_REGION") == "eu-1"
    assert "SECRET_THING" not in seen
