"""A run queued for a lane slot gives its worker back (docs/lanes.md, "Parked runs"): a real
``phasegate serve --workers 1`` on SQLite and on PostgreSQL, lane ``L1`` capped 1 and held
by run A (a `phasegate run` of the CLI on the same store). Runs B and C, started over the API
into ``L1``, are queued and park (no process owns them, the one worker is free), so run D of
another lane starts and succeeds while they wait: today's starvation is gone. A kill -9 of
the server while B is parked loses nothing: once A finishes, the restarted server resumes B
(its slot granted) and then C, in their order, each exactly once, and the journal shows the
lane never held by two runs at once."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from phasegate.store.backends import open_journal
from phasegate.store.records import RunRecord
from tests import cli_forks
from tests.server.conftest import Served, wait_for


def plan(name: str, lane: str, ledger: Path, before: str = "") -> str:
    return f"""\
version: 1
name: {name}
lane: {lane}
phases:
  - id: work
    steps:
      - run: {before}echo {name} >> {ledger}
"""


@pytest.fixture
def holder() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def env_of(served: Served, url: str | None) -> dict[str, str]:
    return served.env() | ({"PHASEGATE_STORE": url} if url else {})


def cli(served: Served, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_forks.phasegate(list(args), cwd=served.cwd, env=env_of(served, url))


@pytest.mark.timeout(600)
def test_queued_runs_park_another_lane_runs_and_the_queue_keeps_its_order_across_a_kill_9(
    served: Served, store_url: str | None, holder: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    release = tmp_path / "release-a"
    assert cli(served, store_url, "lane", "set", "L1", "--max", "1").returncode == 0
    made = cli(served, store_url, "token", "create", "--name", "ci", "--role", "operator")
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
    served.serve_args = ["--workers", "1", "--park-after", "0.5s"]
    if store_url:
        served.server_env["PHASEGATE_STORE"] = store_url
    served.start()
    store = open_journal(served.state_dir, url=store_url)

    def record(run_id: str) -> RunRecord:
        return store.get_run(run_id)

    def parked(run_id: str) -> bool:
        found = record(run_id)
        return found.status == "queued" and found.owner is None

    try:
        # A: a CLI run holding L1 until the test releases it.
        a_plan = served.cwd / "a.yaml"
        wait = f"while [ ! -e {release} ]; do sleep 0.1; done; "
        a_plan.write_text(plan("run-a", "L1", ledger, before=wait))
        holder.append(
            subprocess.Popen(
                [sys.executable, "-m", "phasegate", "run", str(a_plan)],
                cwd=served.cwd,
                env=env_of(served, store_url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

        def a_holds() -> str | None:
            runs = store.list_runs(plan="run-a", limit=5)
            tickets = [t for t in store.lane_tickets() if t.lane == "L1" and t.granted]
            if runs and tickets and tickets[0].run_id == runs[0].id:
                return runs[0].id
            return None

        run_a = wait_for(a_holds, "run A to hold lane L1")

        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as client:

            def start(name: str, lane: str) -> str:
                answer = client.post("/api/v1/runs", json={"plan": plan(name, lane, ledger)})
                assert answer.status_code == 201, answer.text
                run_id: str = answer.json()["id"]
                return run_id

            run_b = start("run-b", "L1")
            wait_for(lambda: parked(run_b), "run B to park while queued", attempts=900)
            run_c = start("run-c", "L1")
            wait_for(lambda: parked(run_c), "run C to park while queued", attempts=900)
            shown = cli(served, store_url, "status", run_b).stdout
            assert "QUEUED (parked" in shown, shown
            # D, another lane, on the server's only worker: B and C do not hold it.
            run_d = start("run-d", "L2")
            wait_for(lambda: record(run_d).status == "succeeded", "run D", attempts=900)
            assert parked(run_b) and parked(run_c)
            assert ledger.read_text().split() == ["run-d"]  # nothing of A, B or C ran
            place = {t.run_id: t for t in store.lane_tickets() if t.lane == "L1"}
            assert not place[run_b].granted and not place[run_c].granted  # places kept

            # kill -9 of the server while B (and C) are parked; a new server takes over.
            served.stop(signal.SIGKILL)
            served.start()
            assert parked(run_b) and parked(run_c)
            release.touch()
            for run_id in (run_a, run_b, run_c):
                wait_for(
                    lambda r=run_id: record(r).status == "succeeded",  # type: ignore[misc]
                    f"run {run_id} to succeed",
                    attempts=1200,
                )
    finally:
        events = {run_id: store.events(run_id) for run_id in store_runs(store)}
        store.close()

    # Each ran exactly once, in the lane's order (A held it; B queued before C).
    assert ledger.read_text().split() == ["run-d", "run-a", "run-b", "run-c"]
    spans = []
    for run_id in (run_a, run_b, run_c):
        found: list[Any] = events[run_id]
        grants = [e for e in found if e.type in ("lane.granted", "run.dequeued")]
        assert len(grants) == 1, [e.type for e in found]
        if run_id != run_a:  # resumed still queued: the wait ends with its grant
            assert grants[0].type == "run.dequeued" and grants[0].data["how"] == "granted"
        finished = next(e for e in found if e.type == "run.finished")
        spans.append((float(grants[0].data["granted_at"]), finished.ts))
    # The slot of L1 went A -> B -> C, never to two at once.
    assert spans[0][1] <= spans[1][0] and spans[1][1] <= spans[2][0], spans
    # B and C were resumed from parked (never as crashed), each by one worker at a time.
    for run_id in (run_b, run_c):
        resumes = [e.data.get("after") for e in events[run_id] if e.type == "run.resumed"]
        assert resumes and set(resumes) == {"parked"}, resumes
        starts = [e for e in events[run_id] if e.type == "item.started"]
        assert len(starts) == 1


def store_runs(store: Any) -> list[str]:
    return [r.id for r in store.list_runs(limit=50)]


@pytest.mark.timeout(600)
def test_parked_runs_start_by_priority_then_arrival_when_a_cap_opens(
    served: Served, tmp_path: Path
) -> None:
    """Three runs parked in a closed lane (cap 0): b (priority 0), c (priority 5, queued
    after b, within its 5 minutes of head start), e (priority 0, last). Opening the lane to
    one slot at runtime reaches the parked runs (the server's grant): c, then b, then e, one
    at a time, each once."""
    ledger = tmp_path / "ledger"
    assert cli(served, None, "lane", "set", "L1", "--max", "0").returncode == 0
    made = cli(served, None, "token", "create", "--name", "ci", "--role", "operator")
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
    served.serve_args = ["--workers", "1", "--park-after", "0.3s"]
    served.start()
    store = open_journal(served.state_dir)
    ids: dict[str, str] = {}
    try:
        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as client:
            for name, priority in (("run-b", 0), ("run-c", 5), ("run-e", 0)):
                body = {"plan": plan(name, "L1", ledger), "priority": priority}
                answer = client.post("/api/v1/runs", json=body)
                assert answer.status_code == 201, answer.text
                ids[name] = answer.json()["id"]
                wait_for(
                    lambda r=ids[name]: (  # type: ignore[misc]
                        store.get_run(r).status == "queued" and store.get_run(r).owner is None
                    ),
                    f"{name} to park",
                    attempts=900,
                )
            assert not ledger.exists()
            assert cli(served, None, "lane", "set", "L1", "--max", "1").returncode == 0
            for run_id in ids.values():
                wait_for(
                    lambda r=run_id: store.get_run(r).status == "succeeded",  # type: ignore[misc]
                    f"run {run_id}",
                    attempts=1200,
                )
        spans = []
        for name in ("run-c", "run-b", "run-e"):
            events = store.events(ids[name])
            (dequeued,) = [e for e in events if e.type == "run.dequeued"]
            finished = next(e for e in events if e.type == "run.finished")
            spans.append((float(dequeued.data["granted_at"]), finished.ts))
    finally:
        store.close()
    assert ledger.read_text().split() == ["run-c", "run-b", "run-e"]
    assert spans[0][1] <= spans[1][0] and spans[1][1] <= spans[2][0], spans
