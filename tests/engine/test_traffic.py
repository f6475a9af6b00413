"""Traffic steps through the real CLI with the `command` router: a real script that records
every change, so the order of traffic changes and undo actions is observable."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.conftest import CLI, items, write_plan

ROUTER = """\
#!/bin/sh
# A router: records the weights asked, and says what it applied.
echo "weight $WEIGHT $WEIGHTS" >> traffic.log
[ -f router-broken ] && { echo "router is down" >&2; exit 7; }
echo "$WEIGHT" > live-weight
echo "$WEIGHT"
"""


def _router(cwd: Path) -> None:
    script = cwd / "router.sh"
    script.write_text(ROUTER, encoding="utf-8")
    script.chmod(0o755)


def _log(cwd: Path) -> list[str]:
    path = cwd / "traffic.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _weights(cwd: Path) -> list[int]:
    return [int(line.split()[1]) for line in _log(cwd) if line.startswith("weight ")]


CANARY = """
version: 1
name: canary
traffic:
  router: {command: ./router.sh}
phases:
  - id: canary
    steps:
      - set_weight: 5
      - name: deploy marker
        run: echo deployed >> traffic.log
        undo: echo undeployed >> traffic.log
      - set_weight: 25
      - name: bake
        run: '{bake}'
      - set_weight: 100
"""


def test_weights_move_in_order_and_are_journalled(cli: CLI) -> None:
    _router(cli.cwd)
    plan = write_plan(cli.cwd, CANARY.replace("{bake}", "true"))
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    assert _weights(cli.cwd) == [5, 25, 100]
    status = cli.status()
    assert status["traffic"]["weights"] == {"stable": 0, "canary": 100}
    history = status["traffic"]["history"]
    assert [h["weights"]["canary"] for h in history] == [5, 25, 100]
    step = items(status)["canary/set-weight-25"]
    assert step["status"] == "succeeded"
    assert step["outputs"] == {"weights": {"stable": 75, "canary": 25}}
    assert cli("check").returncode == 0


def test_rollback_returns_traffic_to_baseline_before_any_undo(cli: CLI) -> None:
    _router(cli.cwd)
    plan = write_plan(cli.cwd, CANARY.replace("{bake}", "exit 1"))
    result = cli("run", str(plan))
    assert result.returncode == 1, result.stderr
    log = _log(cli.cwd)
    # 5%, deploy, 25%, then the bake fails: traffic goes back to 0 first, then the undo.
    assert [line.split()[0] for line in log] == [
        "weight",
        "deployed",
        "weight",
        "weight",
        "undeployed",
    ]
    assert _weights(cli.cwd) == [5, 25, 0]
    assert (cli.cwd / "live-weight").read_text().strip() == "0"
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert items(status)["traffic:baseline"]["status"] == "succeeded"


def test_a_router_failure_fails_the_step_and_rolls_back(cli: CLI) -> None:
    _router(cli.cwd)
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: broken-router
        traffic:
          router: {command: ./router.sh}
        phases:
          - id: canary
            steps:
              - set_weight: 10
              - run: touch router-broken
              - set_weight: 50
        """,
    )
    result = cli("run", str(plan))
    assert result.returncode in (1, 3), result.stderr
    status = cli.status()
    step = items(status)["canary/set-weight-50"]
    assert step["status"] == "failed"
    assert "exited 7: router is down" in step["message"]
    # The router is still down, so the return to baseline fails too and says so.
    assert status["run"]["status"] == "rollback_failed"
    assert items(status)["traffic:baseline"]["status"] == "failed"
    (cli.cwd / "router-broken").unlink()
    assert cli("rollback", "last").returncode == 0
    assert _weights(cli.cwd)[-1] == 0


def test_weights_per_backend_and_a_baseline(cli: CLI) -> None:
    _router(cli.cwd)
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: three-way
        traffic:
          router: {command: ./router.sh}
          backends: [sandbox, canary, production]
          baseline: {sandbox: 100}
        phases:
          - id: allocate
            steps:
              - set_weight: {sandbox: 50, canary: 50}
              - set_weight: {sandbox: 10, canary: 10, production: 80}
              - run: exit 1
        """,
    )
    assert cli("run", str(plan)).returncode == 1
    asked = [json.loads(line.split(" ", 2)[2]) for line in _log(cli.cwd)]
    assert asked == [
        {"sandbox": 50, "canary": 50, "production": 0},
        {"sandbox": 10, "canary": 10, "production": 80},
        {"sandbox": 100, "canary": 0, "production": 0},
    ]


def test_kill_during_bake_then_resume_restores_the_last_weight_first(cli: CLI) -> None:
    _router(cli.cwd)
    plan = write_plan(cli.cwd, CANARY.replace("{bake}", "touch baking; sleep 30"))
    proc = cli.spawn("run", str(plan))
    deadline = time.monotonic() + 60
    while not (cli.cwd / "baking").exists():
        assert time.monotonic() < deadline, "the bake never started"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    # The router lost its state meanwhile (restarted, or changed by hand).
    (cli.cwd / "live-weight").write_text("0\n")
    before = len(_log(cli.cwd))
    # The bake the dead engine left running is ended (it would be waited for, and then be
    # recovered as succeeded from its supervisor's record): its outcome is unknown; skip it.
    result = cli("resume", "last", "--kill-orphans", "--skip-step", "canary/bake")
    assert result.returncode == 0, result.stderr
    after = _log(cli.cwd)[before:]
    assert after[0].startswith("weight 25 "), after  # restored before anything else
    assert _weights(cli.cwd)[-1] == 100
    history = cli.status()["traffic"]["history"]
    assert [h["reason"] for h in history] == ["step", "step", "restore", "step"]


def test_traffic_plan_errors_are_located(cli: CLI) -> None:
    cases = {
        "no traffic block": (
            "phases:\n  - id: p\n    steps:\n      - set_weight: 5\n",
            "plan.yaml:6:",
            "no `traffic:` block",
        ),
        "shares": (
            "traffic: {router: {command: ./r.sh}}\n"
            "phases:\n  - id: p\n    steps:\n      - set_weight: {stable: 50, canary: 40}\n",
            "plan.yaml:7:",
            "add up to 90%",
        ),
        "unknown backend": (
            "traffic: {router: {command: ./r.sh}}\n"
            "phases:\n  - id: p\n    steps:\n      - set_weight: {stable: 50, canray: 50}\n",
            "plan.yaml:7:",
            "did you mean 'canary'",
        ),
        "unknown router": (
            "traffic: {router: {comand: ./r.sh}}\nphases:\n  - id: p\n    steps: [{run: 'true'}]\n",
            "plan.yaml:3:",
            "'command'",
        ),
        "run and set_weight": (
            "traffic: {router: {command: ./r.sh}}\n"
            "phases:\n  - id: p\n    steps:\n      - {run: 'true', set_weight: 5}\n",
            "plan.yaml:7:",
            "a step does one thing",
        ),
        "over 100": (
            "traffic: {router: {command: ./r.sh}}\n"
            "phases:\n  - id: p\n    steps:\n      - set_weight: 150\n",
            "plan.yaml:7:",
            "100",
        ),
    }
    for name, (body, where, words) in cases.items():
        write_plan(cli.cwd, "version: 1\nname: bad\n" + body)
        result = cli("validate", "plan.yaml")
        assert result.returncode == 2, name
        assert where in result.stderr and words in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr
