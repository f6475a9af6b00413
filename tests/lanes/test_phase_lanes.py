"""A phase's own ``lane:`` through the real CLI: two runs contend for a phase lane of cap 1.
The second run starts at once (its first phase has no lane) and waits ``queued`` at the laned
phase, with the reason in ``status``; it gets the slot when the first run's phase ends, so the
two phases never overlap."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CLI, write_plan
from tests.lanes.test_lanes_cli import events, run_of
from tests.lanes.test_lanes_cli import wait_for as _wait_for


def wait_for(what: Any) -> Any:
    """Bounded generously: each probe is two CLI calls, slow on a loaded 2-core machine."""
    return _wait_for(what, timeout=180.0)


def phase_laned_plan(cli: CLI, name: str) -> None:
    """``prep`` (no lane) then ``deploy`` (lane ``deploy``, waits for ``go-NAME``)."""
    write_plan(
        cli.cwd,
        f"""
        version: 1
        name: {name}
        phases:
          - id: prep
            steps:
              - run: touch prepped-{name}
          - id: deploy
            needs: [prep]
            lane: deploy
            steps:
              - run: for i in $(seq 2400); do [ -f go-{name} ] && break; sleep 0.05;
                  done; [ -f go-{name} ]
        """,
        name=f"{name}.yaml",
    )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def phase_status(status: dict[str, Any], phase: str) -> str | None:
    return next((p["status"] for p in status["phases"] if p["id"] == phase), None)


def phase_span(found: list[tuple[float, str, dict[str, Any]]], phase: str) -> tuple[float, float]:
    start = next(ts for ts, t, d in found if t == "phase.started" and d["phase"] == phase)
    end = next(ts for ts, t, d in found if t == "phase.finished" and d["phase"] == phase)
    return start, end


def test_the_second_run_waits_at_the_laned_phase_not_at_its_start(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    assert cli("lane", "set", "deploy", "--max", "1").returncode == 0
    phase_laned_plan(cli, "first")
    phase_laned_plan(cli, "second")
    procs.append(cli.spawn("run", "first.yaml"))
    first = wait_for(
        lambda: (r := run_of(cli, "first")) and phase_status(r, "deploy") == "running" and r
    )
    procs.append(cli.spawn("run", "second.yaml"))
    second = wait_for(lambda: (r := run_of(cli, "second")) and r["run"]["status"] == "queued" and r)
    # It started and ran prep: the wait is at the laned phase.
    assert (cli.cwd / "prepped-second").exists()
    assert phase_status(second, "prep") == "succeeded"
    assert second["queue"]["lane"] == "deploy" and second["queue"]["phase"] == "deploy"
    assert second["queue"]["reason"] == "lane deploy full (1/1)"
    shown = cli("status", second["run"]["id"])
    assert "lane deploy full (1/1)" in shown.stdout and "phase deploy starts" in shown.stdout
    [deploy] = cli.json("lane", "list")
    assert (deploy["lane"], deploy["running"], deploy["queued"]) == ("deploy", 1, 1)

    (cli.cwd / "go-first").touch()
    (cli.cwd / "go-second").touch()
    for proc in procs:
        assert proc.wait(timeout=90) == 0
    one = events(cli, first["run"]["id"])
    two = events(cli, second["run"]["id"])
    granted = next(d for _, t, d in one if t == "lane.granted")
    assert (granted["lane"], granted["phase"]) == ("deploy", "deploy")
    types = [t for _, t, _ in two]
    # prep ran before the queue; the slot came before deploy started.
    assert types.index("run.queued") > types.index("phase.started")
    queued = next(d for _, t, d in two if t == "run.queued")
    dequeued = next(d for _, t, d in two if t == "run.dequeued")
    assert (queued["phase"], dequeued["phase"], dequeued["how"]) == ("deploy", "deploy", "granted")
    deploy_started = [d["phase"] for _, t, d in two if t == "phase.started"]
    assert deploy_started == ["prep", "deploy"]
    assert types.index("run.dequeued") < len(types) - types[::-1].index("phase.started")
    # The cap held: the second deploy started after the first one ended.
    first_span, second_span = phase_span(one, "deploy"), phase_span(two, "deploy")
    assert first_span[1] <= dequeued["granted_at"] <= second_span[0]
    assert cli.json("lane", "list")[0]["running"] == 0
    assert cli.json("lane", "list")[0]["queued"] == 0


def test_the_slot_frees_when_the_phase_ends_not_when_the_run_does(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    assert cli("lane", "set", "deploy", "--max", "1").returncode == 0
    write_plan(
        cli.cwd,
        """
        version: 1
        name: long
        phases:
          - id: deploy
            lane: deploy
            steps:
              - run: "true"
          - id: soak
            needs: [deploy]
            steps:
              - run: for i in $(seq 2400); do [ -f go-long ] && break; sleep 0.05;
                  done; [ -f go-long ]
        """,
        name="long.yaml",
    )
    phase_laned_plan(cli, "short")
    (cli.cwd / "go-short").touch()
    procs.append(cli.spawn("run", "long.yaml"))
    wait_for(lambda: (r := run_of(cli, "long")) and phase_status(r, "soak") == "running")
    # long is still running (in soak) and its deploy phase is over: the lane is free.
    assert cli("run", "short.yaml").returncode == 0
    assert run_of(cli, "long")["run"]["status"] == "running"  # type: ignore[index]
    short = events(cli, cli.json("history", "--plan", "short")[0]["id"])
    assert "run.queued" not in [t for _, t, _ in short]
    (cli.cwd / "go-long").touch()
    assert procs[0].wait(timeout=90) == 0


def test_a_paused_phase_gives_its_slot_back_and_its_resume_queues_for_it(
    cli: CLI, procs: list[subprocess.Popen[str]]
) -> None:
    """Paused inside its laned phase, a run frees the slot (nobody waits on a human); resumed
    while another run's phase holds it, it is queued for its started phase before the rest
    of that phase runs."""
    assert cli("lane", "set", "deploy", "--max", "1").returncode == 0
    write_plan(
        cli.cwd,
        """
        version: 1
        name: paused
        phases:
          - id: deploy
            lane: deploy
            steps:
              - {id: hold, pause: approve}
              - run: touch resumed-deploy
        """,
        name="paused.yaml",
    )
    phase_laned_plan(cli, "other")
    assert cli("run", "paused.yaml").returncode == 4
    assert cli.json("lane", "list")[0]["running"] == 0
    procs.append(cli.spawn("run", "other.yaml"))
    wait_for(lambda: (r := run_of(cli, "other")) and phase_status(r, "deploy") == "running")
    paused = run_of(cli, "paused")
    assert paused is not None
    assert cli("approve", paused["run"]["id"]).returncode == 0
    procs.append(cli.spawn("resume", paused["run"]["id"]))
    queued = wait_for(lambda: (r := run_of(cli, "paused")) and r["run"]["status"] == "queued" and r)
    assert queued["queue"]["phase"] == "deploy"
    assert not (cli.cwd / "resumed-deploy").exists()  # nothing of the phase ran meanwhile
    (cli.cwd / "go-other").touch()
    assert procs[0].wait(timeout=90) == 0
    assert procs[1].wait(timeout=90) == 0
    assert (cli.cwd / "resumed-deploy").exists()
    found = events(cli, paused["run"]["id"])
    types = [t for _, t, _ in found]
    assert types.index("run.paused") < types.index("run.queued") < types.index("run.dequeued")
    granted = next(d for _, t, d in found if t == "run.dequeued")
    other = events(cli, cli.json("history", "--plan", "other")[0]["id"])
    assert phase_span(other, "deploy")[1] <= granted["granted_at"]
