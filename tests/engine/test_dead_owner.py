"""A zombie owner is dead (issue 10 §2.3): a process that exited but was not reaped by its
parent still answers ``kill(pid, 0)``, and was taken for alive, so resume, the lock and abort
all waited on it (abort exited 0 with nobody to act on it)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from phasegate.store.process import Owner, proc_stat, process_alive
from tests.conftest import CLI, items, write_plan


def _zombie() -> subprocess.Popen[bytes]:
    child = subprocess.Popen(["/bin/true"])
    # Not waited for: it exits and stays a zombie until this process reaps it.
    deadline = time.monotonic() + 10
    while (stat := proc_stat(child.pid)) is not None and stat.state != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return child


def test_a_zombie_is_not_alive() -> None:
    child = _zombie()
    try:
        stat = proc_stat(child.pid)
        assert stat is not None and stat.state == "Z"
        owner = Owner(child.pid, socket.gethostname(), stat.start)
        assert owner.alive() is False
        assert process_alive(child.pid, stat.start) is False
    finally:
        child.wait()
    assert Owner.me().alive() is True


PLAN = """
    version: 1
    name: zombie-owner
    phases:
      - id: p
        steps:
          - id: first
            run: "touch started; sleep 30"
            undo: "echo undone >> undo.txt"
            idempotent: true
          - id: second
            run: "echo second >> second.txt"
"""


@pytest.fixture
def zombie_run(cli: CLI) -> Iterator[tuple[CLI, subprocess.Popen[str]]]:
    """A run whose engine was SIGKILLed mid-step and is left unreaped: a zombie owner."""
    plan = write_plan(cli.cwd, PLAN)
    engine = cli.spawn("run", str(plan), "-q")
    deadline = time.monotonic() + 30
    while not (cli.cwd / "started").exists():
        assert time.monotonic() < deadline and engine.poll() is None
        time.sleep(0.01)
    engine.send_signal(signal.SIGKILL)
    while (stat := proc_stat(engine.pid)) is not None and stat.state != "Z":
        time.sleep(0.01)
    assert cli.status()["run"]["pid"] == engine.pid
    try:
        yield cli, engine
    finally:
        engine.communicate()


def test_resume_takes_over_a_run_whose_owner_is_a_zombie(
    zombie_run: tuple[CLI, subprocess.Popen[str]],
) -> None:
    cli, engine = zombie_run
    assert proc_stat(engine.pid).state == "Z"  # type: ignore[union-attr]
    resumed = cli("resume", "last", "--kill-orphans", timeout=60)
    # Before: "run … is being executed by pid N" while N was a zombie.
    assert resumed.returncode == 0, resumed.stderr
    assert (cli.cwd / "second.txt").read_text() == "second\n"
    assert cli.status()["run"]["status"] == "succeeded"


def test_abort_of_a_run_whose_owner_is_a_zombie_rolls_back_here(
    zombie_run: tuple[CLI, subprocess.Popen[str]],
) -> None:
    cli, engine = zombie_run
    assert proc_stat(engine.pid).state == "Z"  # type: ignore[union-attr]
    aborted = cli("abort", "last", timeout=60)
    # Before: exit 0 with "its process is rolling it back" and nobody to do it.
    assert aborted.returncode == 0, aborted.stdout + aborted.stderr
    assert "no live owner, rolling back here" in aborted.stdout + aborted.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    # The step the dead engine left running was ended (journalled), not waited for 30 s.
    assert any("killed its process group" in w["message"] for w in status["warnings"])
    assert items(status)["p/first"]["status"] != "succeeded"
    assert not (cli.cwd / "second.txt").exists()
