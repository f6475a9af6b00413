"""Post-rollout monitoring for real (issue 13 §3 acceptance): real `phasegate` subprocesses,
real SQLite, a real HTTP health endpoint on 127.0.0.1, compressed schedules. A health endpoint
that breaks after success is rolled back by the monitor; kill -9 while monitoring, `resume`
continues the schedule after the last journalled check (not from zero); the plan's lock is
kept or released as declared."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate.store.records import RunRecord
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan


class Health:
    """A health endpoint: 200 until ``broken`` is set, then 503."""

    def __init__(self) -> None:
        self.broken = threading.Event()
        self.hits = 0
        health = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                health.hits += 1
                code = 503 if health.broken.is_set() else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/healthz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health() -> Iterator[Health]:
    endpoint = Health()
    yield endpoint
    endpoint.close()


def _poll(what: str, fn: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fn()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _doc(cli: CLI, run: str = "last") -> dict[str, Any] | None:
    result = cli("status", run, "--json")
    if result.returncode != 0:
        return None  # not created yet
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _monitoring(cli: CLI, checks: int = 0) -> RunRecord | None:
    """The latest run once it is monitoring with at least ``checks`` done: read in-process
    through the store (a `status` subprocess takes seconds on a loaded machine)."""
    if not (cli.state_dir / "phasegate.db").exists():
        return None
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        runs = store.list_runs(limit=1)
    finally:
        store.close()
    if not runs or runs[0].status != "monitoring":
        return None
    monitoring = runs[0].summary.get("monitoring") or {}
    return runs[0] if monitoring.get("evaluations", 0) >= checks else None


def _journal(cli: CLI, run_id: str, etype: str) -> list[dict[str, Any]]:
    """The run's events of one type, in journal order, read through the store contract."""
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        return [e.data for e in store.events(run_id) if e.type == etype]
    finally:
        store.close()


def _plan(cli: CLI, url: str, *, every: str, length: str, extra: str = "") -> Path:
    return write_plan(
        cli.cwd,
        f"""
        version: 1
        name: web
        vars:
          LENGTH: {length}
        phases:
          - id: deploy
            steps:
              - id: push
                run: echo v2 > release
                undo: rm -f release
            gates:
              - http: {url}
                expect: {{status: 200}}
        monitor:
          checks:
            - id: health
              http: {url}
              expect: {{status: 200}}
          schedule:
            - {{every: {every}, for: "${{LENGTH}}"}}
        {extra}
        """,
    )


def test_a_health_endpoint_breaking_after_success_is_rolled_back_by_the_monitor(
    cli: CLI, health: Health
) -> None:
    plan = _plan(cli, health.url, every="0.5s", length="10s", extra="  on_failure: rollback")
    proc = cli.spawn("run", str(plan))
    try:
        first = _poll("the run to monitor", lambda: _monitoring(cli))
        assert (cli.cwd / "release").read_text() == "v2\n"  # the rollout is live
        time.sleep(3.0)
        broke_at = time.time()
        health.broken.set()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err  # rolled back cleanly
    assert not (cli.cwd / "release").exists()  # the push was undone
    run_id = first.id
    doc = cli.status(run_id)
    assert doc["run"]["status"] == "rolled_back"
    assert doc["failure"]["reason"] == "monitor"
    assert doc["failure"]["item"] == "monitor:health"
    checked = _journal(cli, run_id, "monitoring.checked")
    # Every check before the break passed; the first after it failed and rolled back.
    passed = [c for c in checked if c["status"] == "passed"]
    failed = [c for c in checked if c["status"] == "failed"]
    assert len(failed) == 1 and checked[-1] is failed[0]
    assert len(passed) >= 3  # ~6 slots fell in the 3 s before the break
    assert all(c["slot"] < failed[0]["slot"] for c in passed)
    # A check's `at` is stamped when its answer is judged: the one in flight at the break may
    # have been answered healthy just before it and stamped just after (a loaded machine)
    assert sum(c["at"] >= broke_at for c in passed) <= 1
    assert failed[0]["at"] >= broke_at and failed[0]["action"] == "rollback"
    assert failed[0]["results"][0]["check"] == "health"
    assert [c["slot"] for c in checked] == sorted({c["slot"] for c in checked})
    monitoring = doc["monitoring"]
    assert monitoring["state"] == "rolled back" and monitoring["next_due"] is None
    assert monitoring["failures"] == 1 and monitoring["done"] == len(checked)
    assert doc["rollback"]["status"] == "rolled_back"
    assert [a["key"] for a in doc["rollback"]["actions"]] == ["undo:deploy/push"]
    assert "monitor check" in err and "-> rollback" in err
    text = cli("status", run_id).stdout
    assert "monitoring (rolled back)" in text and "-> rollback" in text
    report = cli("report", run_id, "--format", "md").stdout
    assert "**Post-rollout monitoring (rolled back):**" in report
    assert cli("check").returncode == 0


def test_kill_minus_nine_while_monitoring_then_resume_continues_the_schedule(
    cli: CLI, health: Health
) -> None:
    plan = _plan(cli, health.url, every="0.5s", length="10s")  # 20 slots
    proc = cli.spawn("run", str(plan))
    try:
        _poll("three checks", lambda: _monitoring(cli, checks=3))
        os.kill(proc.pid, signal.SIGKILL)  # at once: 17 slots are left
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    dead = _doc(cli)
    assert dead is not None and dead["run"]["status"] == "monitoring"
    run_id = dead["run"]["id"]
    before = _journal(cli, run_id, "monitoring.checked")
    last_slot = before[-1]["slot"]
    assert last_slot >= 3 and dead["monitoring"]["slot"] == last_slot
    text = cli("status", run_id).stdout
    assert f"MONITORING (owner dead — resumable: `phasegate resume {run_id}`)" in text
    assert f"{len(before)} of 20 checks" in text

    resumed = cli("resume", run_id, timeout=60)

    assert resumed.returncode == 0, resumed.stderr
    after = _journal(cli, run_id, "monitoring.checked")[len(before) :]
    slots = [c["slot"] for c in after]
    # The schedule continued after the last journalled check, to its end: never from slot 1.
    assert slots[0] > last_slot and slots[-1] == 20
    assert slots == sorted(set(slots))
    started = _journal(cli, run_id, "monitoring.started")
    assert len(started) == 1  # one anchor: the resumed run did not start monitoring again
    # Slots passed over while the engine was dead are counted as missed, not run in a burst.
    assert sum(c["missed"] for c in after) == slots[0] - last_slot - 1 + sum(
        b - a - 1 for a, b in itertools.pairwise(slots)
    )
    # Each check ran at (or after) its own due time on the original schedule's grid.
    anchor = started[0]["at"]
    for check in after:
        assert check["at"] >= anchor + 0.5 * check["slot"] - 1e-6
    doc = cli.status(run_id)
    assert doc["run"]["status"] == "succeeded"
    assert doc["monitoring"]["state"] == "completed"
    assert doc["monitoring"]["done"] == len(before) + len(after)
    assert doc["monitoring"]["slot"] == 20
    assert cli("check").returncode == 0


@pytest.mark.parametrize("lock", ["keep", "release"])
def test_the_lock_is_kept_or_released_while_monitoring_as_declared(
    cli: CLI, health: Health, lock: str
) -> None:
    plan = _plan(cli, health.url, every="0.5s", length="60s", extra=f"  lock: {lock}")
    proc = cli.spawn("run", str(plan))
    try:
        first = _poll("the run to monitor", lambda: _monitoring(cli))
        second = cli("run", str(plan), "--var", "LENGTH=1s", timeout=60)
        if lock == "keep":
            assert second.returncode == 2, second.stderr
            assert first.id in second.stderr  # names the holder
        else:
            assert second.returncode == 0, second.stderr
        # The first run is still monitoring either way.
        still = _doc(cli, first.id)
        assert still is not None and still["run"]["status"] == "monitoring"
        os.kill(proc.pid, signal.SIGINT)  # interrupted: resumable, ends the test fast
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    runs = cli.json("history")
    statuses = sorted(r["status"] for r in runs)
    if lock == "keep":
        assert statuses == ["interrupted"]  # the second run was never created
    else:
        # The second run rolled out and monitored its own (1 s) schedule meanwhile.
        assert statuses == ["interrupted", "succeeded"]
