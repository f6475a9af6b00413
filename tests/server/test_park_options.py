"""``serve --park-after`` / ``--park-lead`` and ``worker --park-after`` (docs/server.md,
"Workers"): bad values are refused before anything starts, naming the option; ``never``
keeps a queued run in its worker (no parking), and a configured value reaches the workers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from phasegate.cli.common import ParkAfter
from phasegate.server.aftercare import Job
from phasegate.server.config import ServerConfig
from phasegate.server.job_payloads import JobOptions
from phasegate.server.worker_host import WorkerConfig, _parking
from phasegate.server.workers import WorkerPool
from phasegate.store.sqlite import SqliteStore
from tests import cli_forks
from tests.server.conftest import Served, wait_for


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["serve", "--park-after", "5x"],
            "Invalid value for '--park-after': invalid duration '5x'",
        ),
        (["serve", "--park-after", "-1s"], "Invalid value for '--park-after'"),
        (["serve", "--park-after", "25h"], "'25h' is more than 24h"),
        (["serve", "--park-lead", "never"], "'--park-lead'"),
        (["worker", "--park-after", "soon"], "Invalid value for '--park-after'"),
        (["worker", "--park-lead", "never"], "'--park-lead'"),
    ],
)
def test_bad_park_values_are_refused_naming_the_option(
    tmp_path: Path, args: list[str], said: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    argv = ["--state-dir", str(tmp_path / "s"), *args]
    done = cli_forks.phasegate(argv, cwd=tmp_path, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert said in done.stderr, done.stderr


def test_park_values_read_as_seconds() -> None:
    kind = ParkAfter()
    assert kind.convert("500ms", None, None) == 0.5
    assert kind.convert("1m30s", None, None) == 90.0
    assert kind.convert("0", None, None) == 0.0
    assert kind.convert("never", None, None) is None


def test_the_pool_gives_its_workers_the_configured_parking(tmp_path: Path) -> None:
    def parking(after: float | None) -> object:
        pool = WorkerPool(ServerConfig(state_dir=tmp_path, park_after=after))
        pool._monitor = object()  # type: ignore[assignment]  # the watch that resumes them
        pool._has_secrets = lambda run_id: False  # type: ignore[method-assign]
        return pool._parking(Job("r1", "resume", "alice"))

    assert parking(7.5) == {"park_monitoring": 7.5, "park_queued": 7.5}
    assert parking(None) == {}  # never: a waiting run keeps its worker


def test_never_keeps_a_queued_run_in_its_worker(served: Served, tmp_path: Path) -> None:
    assert served.cli("lane", "set", "shut", "--max", "0").returncode == 0
    token = served.cli("token", "create", "--name", "alice", "--role", "operator")
    assert token.returncode == 0, token.stderr
    served.serve_args = ["--park-after", "never"]
    served.start()
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    plan = (
        "version: 1\nname: kept\nlane: shut\nphases:\n  - id: p\n    steps:\n      - run: 'true'\n"
    )
    answer = httpx.post(
        f"{served.url}/api/v1/runs", json={"plan": plan}, headers=headers, timeout=60
    )
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    store = SqliteStore(served.state_dir, readonly=True)
    try:
        wait_for(lambda: store.get_run(run_id).status == "queued", "the run to queue")
        time.sleep(2.0)  # a few polls of its wait: a parking worker would be gone
        record = store.get_run(run_id)
        assert record.status == "queued" and record.owner is not None  # still in its worker
        assert record.owner.alive() is True
    finally:
        store.close()
    aborted = httpx.post(
        f"{served.url}/api/v1/runs/{run_id}/abort",
        json={"reason": "done"},
        headers=headers,
        timeout=60,
    )
    assert aborted.status_code == 202, aborted.text
    store = SqliteStore(served.state_dir, readonly=True)
    try:
        wait_for(lambda: store.get_run(run_id).status == "rolled_back", "the abort")
    finally:
        store.close()


def test_the_lead_is_at_most_half_the_park_threshold(tmp_path: Path) -> None:
    """A monitoring run resumed earlier than ``park_after`` before its check would park
    again at once (its check still further off): the lead is capped."""
    lead = WorkerPool(ServerConfig(state_dir=tmp_path, park_after=0.5, park_lead=1.5))._lead()
    assert lead == 0.25
    assert WorkerPool(ServerConfig(state_dir=tmp_path, park_after=10.0))._lead() == 1.5


def test_a_phasegate_worker_parks_waiting_runs_as_serve_does_never_secret_ones(
    tmp_path: Path,
) -> None:
    """``worker --park-after``: queued and monitoring runs both park (their resumes are the
    workers' own: server/worker_host.py), with the job's own options kept; a run started with
    secret variables never parks (no resume could give their values again); never: none."""

    def config(after: float | None, lead: float = 1.5) -> WorkerConfig:
        return WorkerConfig(
            store_url="postgresql://x", location="x", state_dir=tmp_path,
            park_after=after, park_lead=lead,
        )  # fmt: skip

    extra: JobOptions = {"reason": "kept"}
    assert _parking(config(7.5), extra) == {
        "reason": "kept",
        "park_queued": 7.5,
        "park_monitoring": 7.5,
    }
    assert _parking(config(7.5), extra, secret=True) == extra
    assert _parking(config(None), extra) == extra
    # The lead, capped as serve's: at most half the threshold.
    assert config(0.5).lead == 0.25
    assert config(10.0, lead=2.0).lead == 2.0
