"""Two real `phasegate serve` processes on one store (a shared SQLite state directory, and one
PostgreSQL database), lanes capped 2 and 1, 20 runs started at once through both: every run
completes, and the journal's timestamps show no lane ever over its cap (issue 14 §5)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from canary_lab.ports import free_port

from phasegate.store.backends import open_journal
from tests import cli_forks
from tests.server.conftest import Served, wait_for

CAPS = {"Code-API": 2, "Data-Schema": 1}
PER_LANE = 10


def plan(name: str, lane: str, go: Path) -> str:
    """A run that holds its lane's slot until the test has made every start (``go``
    exists), then 0.3 s more: the lanes are contended however loaded the machine is."""
    return f"""\
version: 1
name: {name}
lane: {lane}
phases:
  - id: work
    steps:
      - run: 'while [ ! -e {go} ]; do sleep 0.05; done; sleep 0.3'
        timeout: 5m
"""


@pytest.fixture
def second(tmp_path: Path) -> Iterator[Served]:
    work = tmp_path / "work-b"
    work.mkdir()
    server = Served(f"http://127.0.0.1:{free_port()}", tmp_path / "state", work)
    try:
        yield server
    finally:
        server.stop()


def cli(served: Served, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = served.env() | ({"PHASEGATE_STORE": url} if url else {})
    return cli_forks.phasegate(list(args), cwd=served.cwd, env=env)


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    # An end and a start at one instant: the end first (a slot freed, then granted).
    points.sort(key=lambda p: (p[0], p[1]))
    best = level = 0
    for _, step in points:
        level += step
        best = max(best, level)
    return best


@pytest.mark.timeout(600)
def test_two_servers_twenty_starts_caps_never_exceeded(
    served: Served, second: Served, store_url: str | None, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    for name, cap in CAPS.items():
        assert cli(served, store_url, "lane", "set", name, "--max", str(cap)).returncode == 0
    made = cli(served, store_url, "token", "create", "--name", "ci", "--role", "operator")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    for server in (served, second):
        server.serve_args = ["--workers", "12"]
        if store_url:
            server.server_env["PHASEGATE_STORE"] = store_url
        server.start()

    started: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2 * PER_LANE)

    def start(n: int) -> None:
        lane = sorted(CAPS)[n % 2]
        server = (served, second)[(n // 2) % 2]
        barrier.wait(timeout=60)
        answer = httpx.post(
            f"{server.url}/api/v1/runs",
            json={"plan": plan(f"job-{n:02d}", lane, go)},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=120,
        )
        assert answer.status_code == 201, answer.text
        with lock:
            started.append(answer.json()["id"])

    threads = [threading.Thread(target=start, args=(n,)) for n in range(2 * PER_LANE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(started) == 2 * PER_LANE

    store = open_journal(served.state_dir, url=store_url)
    try:

        def all_admitted() -> bool:
            """Each run was granted its slot or queued for one."""
            kinds = ({e.type for e in store.events(r)} for r in started)
            return all(k & {"lane.granted", "run.queued"} for k in kinds)

        wait_for(all_admitted, "every run granted or queued", attempts=3000)
        go.touch()

        def all_done() -> bool:
            return all(store.get_run(r).status == "succeeded" for r in started)

        wait_for(all_done, "every run to succeed", attempts=3000)
        held: dict[str, list[tuple[float, float]]] = {name: [] for name in CAPS}
        queued = 0
        for run_id in started:
            events: list[Any] = store.events(run_id)
            granted = [e for e in events if e.type in ("lane.granted", "run.dequeued")]
            assert len(granted) == 1, [e.type for e in events]
            queued += sum(1 for e in events if e.type == "run.queued")
            finished = next(e for e in events if e.type == "run.finished")
            first_phase = next(e for e in events if e.type == "phase.started")
            start = float(granted[0].data["granted_at"])
            assert start <= first_phase.ts  # nothing ran before the slot was granted
            held[granted[0].data["lane"]].append((start, finished.ts))
        assert store.lane_tickets() == []  # every slot freed
    finally:
        store.close()
    for name, cap in CAPS.items():
        assert len(held[name]) == PER_LANE
        assert most_at_once(held[name]) == cap, (name, sorted(held[name]))
    # Every start was made while the first runs held their slots: all but a lane's cap waited.
    assert queued == sum(PER_LANE - cap for cap in CAPS.values())
