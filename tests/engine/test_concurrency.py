"""Two processes, one target: locks and idempotency keys."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import CLI, write_plan

LONG = """
    version: 1
    name: locked
    lock: web-prod
    phases:
      - id: p
        steps:
          - {id: mark, run: "touch started", undo: "rm -f started"}
          - {id: hold, run: "sleep 30"}
"""


def _wait_for(path_exists: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path_exists() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_second_run_on_the_same_lock_is_refused_naming_the_holder(cli: CLI) -> None:
    plan = write_plan(cli.cwd, LONG)
    first = cli.spawn("run", str(plan))
    try:
        _wait_for((cli.cwd / "started").exists)
        second = cli("run", str(plan))
        assert second.returncode == 2
        holder = cli.json("history")[0]
        assert f"held by run {holder['id']}" in second.stderr
        assert f"process {first.pid}" in second.stderr and "(running)" in second.stderr
        # the holder dies without a trace: the lock is reported stale, not silently stolen
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        third = cli("run", str(plan))
        assert third.returncode == 2
        assert "dead: stale owner" in third.stderr
        assert f"phasegate resume|abort {holder['id']}" in third.stderr
        # the operator aborts the crashed run: it rolls back and frees the lock
        aborted = cli("abort", holder["id"], "--reason", "crashed host")
        assert aborted.returncode == 0, aborted.stderr
        assert not (cli.cwd / "started").exists()
        plan_quick = write_plan(cli.cwd, LONG.replace('"sleep 30"', '"true"'), "quick.yaml")
        assert cli("run", str(plan_quick)).returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()


def test_abort_of_a_live_run_from_another_process(cli: CLI) -> None:
    plan = write_plan(cli.cwd, LONG.replace('"sleep 30"', '"sleep 3"'))
    first = cli.spawn("run", str(plan))
    _wait_for((cli.cwd / "started").exists)
    result = cli("abort", "last")
    assert result.returncode == 0, result.stderr
    assert "abort acknowledged" in result.stdout and "ending p/hold" in result.stdout
    first.communicate(timeout=60)
    assert first.returncode == 1
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["failure"]["reason"] == "aborted"
    assert not (cli.cwd / "started").exists()


def test_same_idempotency_key_from_two_processes_makes_one_run(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: idem
        phases:
          - id: p
            steps: [{run: "echo once >> ledger; sleep 0.5"}]
    """,
    )

    def start() -> int:
        return cli("run", str(plan), "--idempotency-key", "release-42").returncode

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: start(), range(4)))
    runs = cli.json("history")
    assert len(runs) == 1
    assert (cli.cwd / "ledger").read_text() == "once\n"
    assert codes.count(0) >= 1 and set(codes) <= {0, 4}
    # the same key with a different plan is refused
    other = write_plan(
        cli.cwd,
        """
        version: 1
        name: idem
        phases: [{id: p, steps: [{run: "echo other"}]}]
    """,
        "other.yaml",
    )
    refused = cli("run", str(other), "--idempotency-key", "release-42")
    assert refused.returncode == 2
    assert "different plan" in refused.stderr
    replay = cli("run", str(plan), "--idempotency-key", "release-42")
    assert replay.returncode == 0
    assert "matches existing run" in replay.stderr
    assert json.loads(cli("history", "--json").stdout)[0]["id"] == runs[0]["id"]
