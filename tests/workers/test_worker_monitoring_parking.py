"""`phasegate worker` parks monitoring runs between checks (issue 13 §3, docs/monitoring.md):
two real workers (`--max-runs 1` each) on real PostgreSQL. While a monitoring run waits for
its next check it holds no worker: two other runs that can only finish together (each waits
for the other to have started) both execute. Each check slot is evaluated exactly once
(journal and the check's own ledger), every resume is `after: parked`, and each comes from
one scheduled queue job per parked slot (a late evaluation, its next slot then due within
--park-after, waits for it instead of parking). A kill -9 of the worker that parked the run
changes nothing: the other worker resumes it at its next slot; the monitor's failure still
rolls back."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import psycopg

from phasegate.store.postgres import PostgresStore
from tests.workers.conftest import Workers

EVERY = 4.0  # seconds between checks: well above --park-after, so the run parks each time


def _until(what: str, predicate: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _monitored(path: Path, work: Path) -> Path:
    path.write_text(
        f"""version: 1
name: watched
phases:
  - id: deploy
    steps:
      - id: push
        run: echo pushed >> {work}/ledger
        undo: echo undone >> {work}/ledger
monitor:
  checks:
    - id: health
      command: echo checked >> {work}/checks && test ! -e {work}/broken
  schedule: [{{every: {EVERY}s, for: 120s}}]
  on_failure: rollback
"""
    )
    return path


def _rendezvous(path: Path, name: str, other: str, work: Path) -> Path:
    """A run that finishes only once ``other`` has started too: both need a worker at once."""
    path.write_text(
        f"""version: 1
name: {name}
phases:
  - id: meet
    steps:
      - run: touch {work}/{name}.here; while [ ! -e {work}/{other}.here ]; do sleep 0.05; done
        timeout: 60s
"""
    )
    return path


def _worker_of(pid: int) -> int | None:
    """The parent of a live process (a run's child): the `phasegate worker` executing it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


def test_a_monitoring_run_parks_on_workers_and_survives_its_worker(
    workers: Workers, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    args = ("--max-runs", "1", "--park-after", "1s", "--park-lead", "0.5s")
    # (A lead shorter than a child's start on a loaded host makes a check late, never twice.)
    first = workers.start(*args, "--takeover-within", "2")
    second = workers.start(*args, "--takeover-within", "2")
    by_pid = {first.pid: first, second.pid: second}
    store = PostgresStore(workers.url, state_dir=workers.state)
    try:

        def submit(path: Path) -> str:
            done = workers.cli("submit", str(path), "--json")
            assert done.returncode == 0, done.stderr
            run_id: str = json.loads(done.stdout)["run"]
            return run_id

        def checked() -> list[dict[str, Any]]:
            return [e.data for e in store.events(run) if e.type == "monitoring.checked"]

        def parked() -> bool:
            record = store.get_run(run)
            return record.status == "monitoring" and record.owner is None

        run = submit(_monitored(tmp_path / "watched.yaml", work))
        _until("the run to park after its first check", lambda: parked() and checked())

        # Its worker is free: two runs that need both workers at once both finish.
        run_b = submit(_rendezvous(tmp_path / "b.yaml", "b", "c", work))
        run_c = submit(_rendezvous(tmp_path / "c.yaml", "c", "b", work))
        for other in (run_b, run_c):
            _until(f"{other} to succeed", lambda o=other: store.get_run(o).status == "succeeded")
        assert store.get_run(run).status == "monitoring"
        shown = workers.cli("status", run)
        assert "MONITORING (parked until its next check" in shown.stdout, shown.stdout

        # The worker executing the run's next resume (its child's parent) parks it again,
        # queues the next slot's resume, and is killed -9 while the run is parked.
        before = len(checked())
        owner = _until("a resume to own the run", lambda: store.get_run(run).owner)
        holder = _worker_of(owner.pid)
        assert holder in by_pid, (holder, list(by_pid))
        _until("that check", lambda: len(checked()) > before and parked())
        at_kill = len(checked())
        by_pid[holder].send_signal(signal.SIGKILL)
        by_pid[holder].wait(timeout=30)
        killed = time.time()
        survivor = next(pid for pid in by_pid if pid != holder)

        owner = _until("the other worker to resume the run", lambda: store.get_run(run).owner)
        assert _worker_of(owner.pid) in (survivor, None)  # None: it already exited again
        _until("the next slot", lambda: len(checked()) > at_kill and parked())
        after_kill = [c for c in checked() if c["at"] > killed]
        assert after_kill, "the surviving worker evaluated no slot"

        (work / "broken").touch()
        _until("the monitor's rollback", lambda: store.get_run(run).status == "rolled_back")

        slots = [c["slot"] for c in checked()]
        # Each slot once, in order; one passed over (its resume waited for a free worker on
        # this loaded host, say) is counted as missed by the next, never evaluated twice.
        previous = 0
        for check in checked():
            assert check["slot"] == previous + 1 + check.get("missed", 0), checked()
            previous = check["slot"]
        assert (work / "checks").read_text().split() == ["checked"] * len(slots)
        assert checked()[-1]["status"] == "failed" and checked()[-1]["action"] == "rollback"
        assert (work / "ledger").read_text().split() == ["pushed", "undone"]
        events = store.events(run)
        resumes = [e.data.get("after") for e in events if e.type == "run.resumed"]
        assert set(resumes) == {"parked"}, resumes  # never resumed as a dead owner's run
        # The run parked before each slot (the first included) and was resumed for it once,
        # except after an evaluation that was itself late (its resume waited for a worker on
        # this loaded host, or for the takeover after the kill): with the next slot then due
        # within --park-after, the run waits for it instead of parking (engine/postmonitor.py
        # ``park``). An evaluation on time always parks.
        parked_after: list[int] = []  # the slot after which the run parked (0: before any)
        waited_after: list[Any] = []  # the evaluations after which it waited instead
        between: list[Any] = []
        previous_check: Any = None
        for event in events:
            if event.type == "run.resumed":
                between.append(event)
            elif event.type == "monitoring.checked":
                assert len(between) <= 1, (between, checked())  # one resume per slot
                if between:
                    parked_after.append(previous_check.data["slot"] if previous_check else 0)
                else:
                    assert previous_check is not None, "the first slot ran without parking"
                    waited_after.append(previous_check)
                between = []
                previous_check = event
        for late in waited_after:
            # Late: journalled more than a second after its own due time (next_due - EVERY).
            assert late.data["next_due"] - late.ts < EVERY - 1.0, (late, checked())
        assert len(parked_after) >= 3, (parked_after, checked())  # parking was exercised
        assert len(resumes) == len(parked_after), (resumes, parked_after)
        with psycopg.connect(workers.url) as conn:
            keys = {
                row[0]
                for row in conn.execute(
                    "SELECT queueing_lock FROM procrastinate_jobs WHERE queueing_lock LIKE %s",
                    (f"park:{run}:%",),
                )
            }
        # The scheduled resume of each parked slot, keyed by the last slot evaluated.
        assert keys == {f"park:{run}:{last}" for last in parked_after}, keys
    finally:
        store.close()
