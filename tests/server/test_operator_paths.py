"""Every operator input journals the same decision on every path (issue 12 §1: operator
inputs are inputs to ``respond``, not side paths): approve, reject, abort, promote and resume,
each issued from the CLI and from the API, against a run a live process executes (owned: the
request goes through the store to that process) and against a run nobody executes (unowned:
the operator's process, or a server's worker, answers it). Real `phasegate` processes, a real
server app with its worker processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # as tests/server/conftest.py: httpx serves the client
    from fastapi.testclient import TestClient

from phasegate.identity import actor
from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from phasegate.server.workers import WorkerPool
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord
from tests.conftest import CLI
from tests.server.conftest import Api, make_tokens, wait_for

# The step says it runs (STARTED: its command has been spawned, so the owner can end it) and
# holds until RELEASE exists (the test lets it go); then a manual gate waits.
PLAN = """\
version: 1
name: paths
phases:
  - id: p
    steps:
      - id: hold
        run: "touch STARTED; while [ ! -e RELEASE ]; do sleep 0.05; done"
        undo: "echo undone"
    gates:
      - {manual: "release manager says go", id: go}
"""
GATE = "p/gate:go"
T = TypeVar("T")
# The event each input journals; the fields that say what was decided (``by`` is the actor
# of each path; an abort's ``ending`` is what was in flight, its ``request`` the store's id).
DECISIONS = {
    "approve": "approval.granted",
    "reject": "approval.rejected",
    "abort": "run.abort_requested",
    "promote": "run.promoted",
    "resume": "run.resumed",
}
NOT_DECIDED = {"by", "ending", "request", "pid", "host"}


@dataclass
class Paths:
    api: Api
    cli: CLI
    state_dir: Path
    store_url: str | None
    pool: WorkerPool
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def _read(self, read: Callable[[JournalStore], T]) -> T:
        store = open_journal(self.state_dir, url=self.store_url, readonly=True)
        try:
            return read(store)
        finally:
            store.close()

    def events(self, run_id: str) -> list[tuple[str, dict[str, Any]]]:
        return self._read(lambda s: [(etype, data) for _, _, etype, data in s.events(run_id)])

    def run_ids(self) -> list[str]:
        return self._read(lambda s: s.run_ids())

    def record(self, run_id: str) -> RunRecord:
        return self._read(lambda s: s.get_run(run_id))

    def item_status(self, run_id: str, key: str) -> str | None:
        state = self._read(lambda s: s.load_state(run_id))
        item = state.items.get(key)
        return item.status if item is not None else None

    def unowned(self, run_id: str) -> bool:
        owner = self.record(run_id).owner
        return owner is None or not owner.alive()

    def ends(self, run_id: str, status: str, verb: str) -> None:
        """Wait for the decision to be journalled and the run to be ``status`` with nobody
        executing it."""

        def done() -> bool:
            decided = any(etype == DECISIONS[verb] for etype, _ in self.events(run_id))
            return decided and self.record(run_id).status == status and self.unowned(run_id)

        wait_for(done, f"run {run_id} to be {status} after {verb}")


@pytest.fixture(params=["sqlite", "postgres"])
def paths(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Paths]:
    """The API (in-process app, real worker processes) and the CLI on one journal."""
    state = tmp_path / "state"
    plans = tmp_path / "plans"
    plans.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    store_url = None
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
        from tests.store.pg_cluster import database_url

        store_url = database_url(tmp_path / "db")
    tokens = make_tokens(state, store_url)
    app = create_app(ServerConfig(state_dir=state, store_url=store_url, plan_root=plans, workers=2))
    cli = _StoreCLI(state_dir=state, cwd=work, store_url=store_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        paths = Paths(Api(client, tokens), cli, state, store_url, app.state.pool)
        try:
            yield paths
        finally:
            for proc in paths.procs:  # a test that failed half-way leaves its run's process
                if proc.poll() is None:
                    proc.kill()
                proc.communicate()
        assert app.state.pool.join(120), "workers still busy"


@dataclass
class _StoreCLI(CLI):
    store_url: str | None = None

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = super().env(extra)
        if self.store_url is not None:
            env["PHASEGATE_STORE"] = self.store_url
        return env


def _plan(directory: Path) -> str:
    # named after its path: a run left paused holds its plan's lock, not the other's
    text = PLAN.replace("name: paths", f"name: paths-{directory.name}")
    return text.replace("RELEASE", str(directory / "RELEASE")).replace(
        "STARTED", str(directory / "STARTED")
    )


def _start_cli(paths: Paths, release: Path, owned: bool) -> tuple[str, subprocess.Popen[str]]:
    plan = paths.cli.cwd / "plan.yaml"
    plan.write_text(_plan(release.parent), encoding="utf-8")
    known = set(paths.run_ids())
    proc = paths.cli.spawn("run", str(plan))
    paths.procs.append(proc)
    run_id: str = wait_for(lambda: next(iter(set(paths.run_ids()) - known), None), "the run")
    _reach(paths, run_id, release, owned)
    return run_id, proc


def _start_api(paths: Paths, release: Path, owned: bool) -> str:
    response = paths.api.post("/api/v1/runs", "alice", json={"plan": _plan(release.parent)})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    _reach(paths, run_id, release, owned)
    if not owned:  # the server's worker has been reaped too (the API queues a job, then)
        wait_for(lambda: not paths.pool.busy(run_id), "the worker to be reaped")
    return run_id


def _reach(paths: Paths, run_id: str, release: Path, owned: bool) -> None:
    """Owned: the step holds and its process executes the run; unowned: the run paused at the
    gate and its process has exited (nobody executes it)."""
    if owned:
        wait_for((release.parent / "STARTED").exists, "the step to run")
        assert paths.item_status(run_id, "p/hold") == "running"
        assert not paths.unowned(run_id)
        return
    release.touch()
    wait_for(
        lambda: paths.record(run_id).status == "paused" and paths.unowned(run_id),
        "the run to pause at the gate, its process gone",
    )


def _cli_input(paths: Paths, verb: str, run_id: str) -> subprocess.CompletedProcess[str]:
    args = {
        "approve": ["approve", run_id, "go", "--comment", "ok"],
        "reject": ["reject", run_id, "go", "--comment", "no"],
        "abort": ["abort", run_id, "--reason", "stop"],
        "promote": ["promote", run_id, "--full"],
        "resume": ["resume", run_id],
    }[verb]
    return paths.cli(*args, timeout=120)


def _api_input(paths: Paths, verb: str, run_id: str) -> Any:
    body = {
        "approve": {"check": "go", "comment": "ok"},
        "reject": {"check": "go", "comment": "no"},
        "abort": {"reason": "stop"},
        "promote": {"full": True},
        "resume": {},
    }[verb]
    return paths.api.post(f"/api/v1/runs/{run_id}/{verb}", "alice", json=body)


def _decisions(paths: Paths, run_id: str, verb: str) -> list[dict[str, Any]]:
    return [data for etype, data in paths.events(run_id) if etype == DECISIONS[verb]]


def _decided(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if k not in NOT_DECIDED}


# What each input leads to (the run's status once nobody executes it).
EFFECT = {
    "approve": "succeeded",  # the gate approved in advance, or while it waited
    "reject": "rolled_back",
    "abort": "rolled_back",
    "promote": "paused",  # no canary step left: the manual gate still decides
}


@pytest.mark.parametrize("owned", [True, False], ids=["owned", "unowned"])
@pytest.mark.parametrize("verb", ["approve", "reject", "abort", "promote"])
def test_each_input_journals_the_same_decision_from_the_cli_and_the_api(
    paths: Paths, tmp_path: Path, verb: str, owned: bool
) -> None:
    cli_dir, api_dir = tmp_path / "cli", tmp_path / "api"
    cli_dir.mkdir()
    api_dir.mkdir()

    cli_run, proc = _start_cli(paths, cli_dir / "RELEASE", owned)
    done = _cli_input(paths, verb, cli_run)
    # 4: paused (a run promoted here continues to the gate, which waits)
    assert done.returncode == (4 if verb == "promote" and not owned else 0), done.stderr
    (cli_dir / "RELEASE").touch()
    proc.communicate(timeout=120)
    if verb == "approve" and not owned:  # the CLI says: `phasegate resume RUN` continues
        resumed = paths.cli("resume", cli_run, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
    paths.ends(cli_run, EFFECT[verb], verb)

    api_run = _start_api(paths, api_dir / "RELEASE", owned)
    answered = _api_input(paths, verb, api_run)
    assert answered.status_code in (200, 202), answered.text
    outcome = answered.json()["outcome"]
    # an approval is recorded at once (asked of the owner, or journalled here)
    assert outcome == ("approved" if verb == "approve" else "requested" if owned else "queued")
    # The API does not wait for the owner (the CLI's abort and reject do): the step is let go
    # once the owner has answered, so that the abort finds it in flight.
    wait_for(lambda: _decisions(paths, api_run, verb), f"the owner to answer {verb}")
    (api_dir / "RELEASE").touch()
    paths.ends(api_run, EFFECT[verb], verb)

    cli_decisions = _decisions(paths, cli_run, verb)
    api_decisions = _decisions(paths, api_run, verb)
    assert len(cli_decisions) == len(api_decisions) == 1, (cli_decisions, api_decisions)
    cli_decision, api_decision = cli_decisions[0], api_decisions[0]
    assert _decided(cli_decision) == _decided(api_decision)
    assert cli_decision["by"] == actor()
    assert "alice" in api_decision["by"]
    if verb == "abort":  # what the abort ended: the step in flight, only in an owned run
        expected = ["p/hold"] if owned else []
        ended = (cli_decision.get("ending", []), api_decision.get("ending", []))
        assert ended == (expected, expected), (cli_decision, api_decision)
        assert (cli_decision["grace"], cli_decision["force"]) == (10, False)
    if verb in ("approve", "reject"):
        assert cli_decision["key"] == GATE
        assert cli_decision["comment"] == ("ok" if verb == "approve" else "no")
    if verb == "promote":
        assert cli_decision["full"] is True


@pytest.mark.parametrize("owned", [True, False], ids=["owned", "unowned"])
def test_resume_is_refused_for_a_live_run_and_journalled_alike_for_a_paused_one(
    paths: Paths, tmp_path: Path, owned: bool
) -> None:
    cli_dir, api_dir = tmp_path / "cli", tmp_path / "api"
    cli_dir.mkdir()
    api_dir.mkdir()
    cli_run, proc = _start_cli(paths, cli_dir / "RELEASE", owned)
    done = _cli_input(paths, "resume", cli_run)
    if owned:
        assert done.returncode != 0 and "being executed" in done.stderr, done.stderr
    else:  # resumed here, and paused at the gate again (4)
        assert done.returncode == 4 and "resuming run" in done.stderr, done.stderr
    (cli_dir / "RELEASE").touch()
    proc.communicate(timeout=120)

    api_run = _start_api(paths, api_dir / "RELEASE", owned)
    answered = _api_input(paths, "resume", api_run)
    if owned:
        assert answered.status_code == 409, answered.text
        assert answered.json()["error"]["code"] == "run_state"
    else:
        assert answered.status_code == 202, answered.text
        paths.ends(api_run, "paused", "resume")  # at the gate again
    (api_dir / "RELEASE").touch()
    wait_for(lambda: paths.unowned(api_run) and paths.record(api_run).status == "paused", "pause")

    cli_resumed = _decisions(paths, cli_run, "resume")
    api_resumed = _decisions(paths, api_run, "resume")
    if owned:  # refused on both paths: nothing journalled
        assert cli_resumed == api_resumed == []
    else:
        assert [_decided(d) for d in cli_resumed] == [_decided(d) for d in api_resumed]
        assert [d["after"] for d in cli_resumed] == ["paused"]
