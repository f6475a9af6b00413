"""Lanes through the real CLI: `phasegate lane set|list|history` (who changed what), runs that
queue for a full lane and start when a slot frees (journalled), an abort of a queued run, and
a cap lowered at runtime that holds for new grants."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate import identity
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan


def gated_plan(cli: CLI, name: str, lane: str = "api") -> Path:
    """A plan whose one step waits until the file ``go-NAME`` exists in the work dir."""
    return write_plan(
        cli.cwd,
        f"""
        version: 1
        name: {name}
        lane: {lane}
        phases:
          - id: work
            steps:
              - run: for i in $(seq 2400); do [ -f go-{name} ] && break; sleep 0.05;
                  done; [ -f go-{name} ]
        """,
        name=f"{name}.yaml",
    )


def wait_for(what: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def run_of(cli: CLI, plan: str) -> dict[str, Any] | None:
    for row in cli.json("history", "--plan", plan):
        found: dict[str, Any] = cli.status(row["id"])
        return found
    return None


def events(cli: CLI, run_id: str) -> list[tuple[float, str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir, readonly=True)
    try:
        return [(e[1], e[2], e[3]) for e in store.events(run_id)]
    finally:
        store.close()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_set_list_and_history_record_who_changed_what(cli: CLI) -> None:
    assert cli("lane", "set", "Code-API", "--max", "4", "--weight", "2").returncode == 0
    done = cli("lane", "set", "Code-API", "--max", "3")
    assert done.returncode == 0 and "cap 4 -> 3, weight 2" in done.stdout
    assert cli("lane", "set", "*", "--max", "10").returncode == 0
    rows = cli.json("lane", "list")
    assert [(r["lane"], r["cap"], r["weight"], r["running"], r["queued"]) for r in rows] == [
        ("*", 10, 1.0, 0, 0),
        ("Code-API", 3, 2.0, 0, 0),
    ]
    history = cli.json("lane", "history", "Code-API")
    assert [(h["cap"], h["previous_cap"], h["weight"]) for h in history] == [
        (3, 4, 2.0),
        (4, None, 2.0),
    ]
    assert {h["by"] for h in history} == {identity.actor()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad name", "--max", "1"], "'bad name' is not a lane name"),
        (["api", "--max", "-1"], "-1 is not in the range x>=0"),
        (["api", "--max", "1", "--weight", "0"], "0.0 is not in the range x>0"),
    ],
)
def test_bad_settings_are_usage_errors_without_a_traceback(
    cli: CLI, args: list[str], message: str
) -> None:
    result = cli("lane", "set", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert cli.json("lane", "list") == []


def test_a_run_queues_while_its_lane_is_full_and_starts_when_the_slot_frees(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    gated_plan(cli, "first")
    gated_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    first = wait_for(lambda: (r := run_of(cli, "first")) and r["lane"] and r)
    procs.append(cli.spawn("run", "second.yaml"))
    second = wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued" and r)
    assert second["queue"]["lane"] == "api" and second["queue"]["position"] == 1
    shown = cli("status", second["run"]["id"])
    assert "queued for lane api (cap 1)" in shown.stdout
    [api] = cli.json("lane", "list")
    assert (api["running"], api["queued"], api["utilization"]) == (1, 1, 1.0)
    assert not any(t == "phase.started" for _, t, _ in events(cli, second["run"]["id"]))
    (cli.cwd / "go-first").touch()
    (cli.cwd / "go-second").touch()
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    one = events(cli, first["run"]["id"])
    two = events(cli, second["run"]["id"])
    assert [t for _, t, _ in one][:3] == ["run.created", "run.started", "lane.granted"]
    assert [t for _, t, _ in two][:4] == [
        "run.created",
        "run.started",
        "run.queued",
        "run.dequeued",
    ]
    dequeued = next(d for _, t, d in two if t == "run.dequeued")
    finished_first = next(ts for ts, t, _ in one if t == "run.finished")
    assert dequeued["how"] == "granted" and dequeued["granted_at"] >= finished_first
    assert cli.json("lane", "list")[0]["running"] == 0


def test_an_aborted_queued_run_leaves_the_queue_and_runs_nothing(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    gated_plan(cli, "first")
    gated_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    wait_for(lambda: (r := run_of(cli, "first")) and r["lane"])
    procs.append(cli.spawn("run", "second.yaml"))
    second = wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued" and r)
    aborted = cli("abort", second["run"]["id"], "--reason", "not today")
    assert aborted.returncode == 0, aborted.stderr
    assert procs[1].wait(timeout=60) != 0
    types = [t for _, t, _ in events(cli, second["run"]["id"])]
    assert "run.dequeued" in types and "phase.started" not in types
    assert (
        next(d for _, t, d in events(cli, second["run"]["id"]) if t == "run.dequeued")["how"]
        == "abort"
    )
    assert cli.status(second["run"]["id"])["run"]["status"] in ("rolled_back", "failed")
    [api] = cli.json("lane", "list")
    assert (api["running"], api["queued"]) == (1, 0)
    (cli.cwd / "go-first").touch()
    assert procs[0].wait(timeout=60) == 0


def test_a_cap_lowered_at_runtime_holds_for_new_grants(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "2")
    for name in ("a", "b", "c"):
        gated_plan(cli, name)
    for name in ("a", "b"):
        procs.append(cli.spawn("run", f"{name}.yaml"))
    wait_for(lambda: all((r := run_of(cli, n)) and r["lane"] for n in ("a", "b")))
    cli("lane", "set", "api", "--max", "1")  # both keep running: nothing is pre-empted
    procs.append(cli.spawn("run", "c.yaml"))
    wait_for(lambda: (r := run_of(cli, "c")) and r["run"]["status"] == "queued")
    (cli.cwd / "go-a").touch()
    assert procs[0].wait(timeout=60) == 0
    time.sleep(1.0)  # several asks of the queued run: b alone fills the lowered cap
    assert run_of(cli, "c")["run"]["status"] == "queued"  # type: ignore[index]
    (cli.cwd / "go-b").touch()
    (cli.cwd / "go-c").touch()
    assert procs[1].wait(timeout=60) == 0
    assert procs[2].wait(timeout=60) == 0


def test_a_paused_run_gives_its_slot_back_and_queues_again_when_resumed(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    write_plan(
        cli.cwd,
        """
        version: 1
        name: paused
        lane: api
        phases:
          - id: work
            steps:
              - {id: hold, pause: approve}
              - run: echo after
        """,
        name="paused.yaml",
    )
    gated_plan(cli, "other")
    assert cli("run", "paused.yaml").returncode == 4  # paused, waiting for a human
    assert cli.json("lane", "list")[0]["running"] == 0  # not running: the slot is free
    procs.append(cli.spawn("run", "other.yaml"))
    wait_for(lambda: (r := run_of(cli, "other")) and r["lane"])
    paused = run_of(cli, "paused")
    assert paused is not None
    assert cli("approve", paused["run"]["id"]).returncode == 0
    procs.append(cli.spawn("resume", paused["run"]["id"]))
    wait_for(lambda: (r := run_of(cli, "paused")) and r["run"]["status"] == "queued")
    (cli.cwd / "go-other").touch()
    assert procs[0].wait(timeout=60) == 0
    assert procs[1].wait(timeout=60) == 0
    types = [t for _, t, _ in events(cli, paused["run"]["id"])]
    assert types.count("lane.granted") == 1 and types.count("run.queued") == 1
    assert types.index("run.paused") < types.index("run.queued") < types.index("run.dequeued")


def test_a_queued_run_interrupted_leaves_the_queue_and_resumes_later(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    gated_plan(cli, "first")
    gated_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    wait_for(lambda: (r := run_of(cli, "first")) and r["lane"])
    procs.append(cli.spawn("run", "second.yaml"))
    second = wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued" and r)
    procs[1].send_signal(signal.SIGTERM)
    assert procs[1].wait(timeout=60) == 130
    assert cli.status(second["run"]["id"])["run"]["status"] == "interrupted"
    [api] = cli.json("lane", "list")
    assert (api["running"], api["queued"]) == (1, 0)  # its place was given up
    (cli.cwd / "go-first").touch()
    (cli.cwd / "go-second").touch()
    assert procs[0].wait(timeout=60) == 0
    resumed = cli("resume", second["run"]["id"])
    assert resumed.returncode == 0, resumed.stderr
    types = [t for _, t, _ in events(cli, second["run"]["id"])]
    assert types.index("run.queued") < types.index("run.interrupted") < types.index("lane.granted")


def test_a_slot_held_by_a_killed_owner_is_reclaimed(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    gated_plan(cli, "first")
    gated_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    first = wait_for(lambda: (r := run_of(cli, "first")) and r["lane"] and r)
    procs.append(cli.spawn("run", "second.yaml"))
    wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued")
    procs[0].kill()  # kill -9: its slot's owner is dead; nothing released it
    procs[0].wait(timeout=30)
    (cli.cwd / "go-second").touch()
    assert procs[1].wait(timeout=60) == 0  # granted once the dead owner's ticket was dropped
    assert cli.status(first["run"]["id"])["run"]["status"] == "running"  # resumable, not lost


def test_aborting_a_queued_run_whose_owner_died_rolls_back_without_waiting(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    cli("lane", "set", "api", "--max", "1")
    gated_plan(cli, "first")
    gated_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    wait_for(lambda: (r := run_of(cli, "first")) and r["lane"])
    procs.append(cli.spawn("run", "second.yaml"))
    second = wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued" and r)
    procs[1].kill()
    procs[1].wait(timeout=30)
    # The lane is still full (first holds its slot): the abort rolls back here, at once.
    aborted = cli("abort", second["run"]["id"], "--reason", "owner gone", timeout=60)
    assert aborted.returncode in (0, 1), aborted.stderr
    status = cli.status(second["run"]["id"])["run"]["status"]
    assert status in ("rolled_back", "failed")
    types = [t for _, t, _ in events(cli, second["run"]["id"])]
    assert "phase.started" not in types and types.count("run.queued") == 1
    (cli.cwd / "go-first").touch()
    assert procs[0].wait(timeout=60) == 0
