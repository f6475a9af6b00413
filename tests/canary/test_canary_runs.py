"""Acceptance of progressive delivery, end to end: real nginx weights, real Prometheus
analysis, real backends counting who served what; phasegate runs as its own process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.canary.conftest import (
    error_analysis,
    journal,
    lab_env,
    share_step,
    shares,
    write_plan,
)
from tests.conftest import CLI, items
from tests.lab.conftest import Lab, eventually

TOLERANCE = 5  # percentage points


def _run(cli: CLI, lab: Lab, plan: Path, *args: str) -> Any:
    return cli("run", str(plan), *args, env=lab_env(lab, cli), timeout=240)


def _canary_served_after(lab: Lab, requests: int = 200) -> int:
    before = lab.canary.served
    with httpx.Client() as client:
        for _ in range(requests):
            client.get(lab.url, timeout=5)
    return lab.canary.served - before


def test_healthy_canary_promotes_and_each_step_serves_its_weight(cli: CLI, fresh_lab: Lab) -> None:
    steps: list[dict[str, Any]] = []
    for weight in (5, 25, 50, 100):
        steps += [{"set_weight": weight}, share_step(weight), {"analysis": "errors"}]
    steps.append({"promote": True})
    plan = write_plan(
        cli.cwd / "healthy.yaml",
        fresh_lab,
        {
            # The burst is counted at the next scrape (every 1 s): measure after it.
            "analyses": {"errors": error_analysis(count=2, initial_delay="2s")},
            "phases": [{"id": "canary", "steps": steps}],
        },
    )
    result = _run(cli, fresh_lab, plan)
    assert result.returncode == 0, result.stdout + result.stderr
    measured = shares(cli)
    assert [m["expected"] for m in measured] == [5, 25, 50, 100]
    for m in measured:
        assert abs(m["share"] - m["expected"]) <= TOLERANCE, m
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    assert status["traffic"]["weights"] == {"stable": 0, "canary": 100}
    analysed = [e for e in journal(cli) if e[0] == "analysis.measured"]
    assert len(analysed) >= 8 and all(d["status"] == "successful" for _, d, _ in analysed)


def test_bad_canary_rolls_back_fast_and_no_request_reaches_it_after(
    cli: CLI, fresh_lab: Lab
) -> None:
    inject = (
        '"$PYTHON" -c "import httpx,os; '
        "httpx.get(os.environ['CANARY_URL'] + '/admin/fault?error_rate=0.5')\""
    )
    plan = write_plan(
        cli.cwd / "bad.yaml",
        fresh_lab,
        {
            # The canary has no traffic (no data) until the first weight is live.
            "analyses": {"errors": error_analysis(initial_delay="2s")},
            "phases": [
                {
                    "id": "canary",
                    "analysis": "errors",
                    "steps": [
                        {"set_weight": 5, "bake": "2s"},
                        {"set_weight": 25},
                        {"name": "bad release", "run": inject},
                        {"pause": "120s"},
                        {"set_weight": 50},
                    ],
                }
            ],
        },
    )
    started = time.monotonic()
    result = _run(cli, fresh_lab, plan)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["traffic"]["weights"] == {"stable": 100, "canary": 0}
    assert elapsed < 120  # the 120 s pause was cut short, not waited out
    assert _canary_served_after(fresh_lab) == 0
    events = journal(cli)
    changes = [d for e, d, _ in events if e == "traffic.changed"]
    rollback = changes[-1]
    assert rollback["reason"] == "rollback" and rollback["applied"]["canary"] == 0
    assert rollback["detection_latency"] > 0
    assert rollback["detected_by"] == "canary/analysis"
    # Nothing moved traffic forward after the failure was detected.
    assert not [c for c in changes if c["applied"]["canary"] > 25]
    verdicts = [d for e, d, _ in events if e == "analysis.measured" and d.get("verdict")]
    assert verdicts and verdicts[-1]["verdict"] == "failed"


def test_prometheus_stopped_mid_analysis_counts_errors_then_pauses(
    cli: CLI, fresh_lab: Lab
) -> None:
    analysis = error_analysis(count=30, consecutive_error_limit=2)
    analysis["metrics"][0]["no_data"] = "pause"
    plan = write_plan(
        cli.cwd / "blind.yaml",
        fresh_lab,
        {
            "analyses": {"errors": analysis},
            "phases": [
                {
                    "id": "canary",
                    "steps": [{"set_weight": 10, "bake": "3s"}, {"analysis": "errors"}],
                }
            ],
        },
    )
    proc = cli.spawn("run", str(plan), env=lab_env(fresh_lab, cli))
    try:
        await_events(cli, "analysis.measured", 2, what="two measurements")
        fresh_lab.prometheus.stop()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 4, out + err  # paused for a human, not passed, not rolled back
    status = cli.status()
    assert status["run"]["status"] == "paused"
    item = next(i for k, i in items(status).items() if k.endswith("analysis-errors"))
    assert item["status"] == "awaiting_approval"
    measured = [d for e, d, _ in journal(cli) if e == "analysis.measured"]
    errors = [d for d in measured if d["status"] == "error"]
    assert len(errors) == 3  # past consecutive_error_limit (2), and no further
    assert not [d for d in measured if d["status"] == "failed"]
    # The canary keeps its weight while a human looks.
    assert status["traffic"]["weights"] == {"stable": 90, "canary": 10}
    result = cli("abort", "last", env=lab_env(fresh_lab, cli))
    assert result.returncode == 0, result.stderr
    assert cli.status()["traffic"]["weights"] == {"stable": 100, "canary": 0}


def _has_run(cli: CLI) -> bool:
    return cli("status", "last", "--json").returncode == 0


def await_events(cli: CLI, etype: str, count: int, *, what: str) -> None:
    """Wait (60 s at most) until the running run has journalled ``count`` ``etype`` events."""
    eventually(
        lambda: [e for e in journal(cli) if e[0] == etype] if _has_run(cli) else [],
        lambda found: len(found) >= count,
        timeout=60,
        what=what,
    )


def _inconclusive_plan(cli: CLI, lab: Lab) -> Path:
    # Healthy canary: the ratio is 0, which neither `failure` nor `success` claims.
    analysis = error_analysis(count=2)
    # On a busy machine the rate window may still be empty (NaN, no data): that too is
    # undecided, and `no_data: pause` says so, so the run pauses either way.
    analysis["metrics"][0].update(failure="value > 0.5", success="value < 0.0", no_data="pause")
    return write_plan(
        cli.cwd / "unsure.yaml",
        lab,
        {
            "analyses": {"unsure": analysis},
            "phases": [
                {
                    "id": "canary",
                    "steps": [
                        {"set_weight": 20, "bake": "3s"},
                        {"analysis": "unsure"},
                        {"set_weight": 40},
                    ],
                }
            ],
        },
    )


def test_inconclusive_analysis_pauses_and_approve_continues(cli: CLI, fresh_lab: Lab) -> None:
    plan = _inconclusive_plan(cli, fresh_lab)
    first = _run(cli, fresh_lab, plan)
    assert first.returncode == 4, first.stdout + first.stderr
    assert cli.status()["traffic"]["weights"] == {"stable": 80, "canary": 20}
    assert cli("approve", "last").returncode == 0
    result = cli("resume", "last", env=lab_env(fresh_lab, cli))
    assert result.returncode == 0, result.stdout + result.stderr
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    assert status["traffic"]["weights"] == {"stable": 60, "canary": 40}
    item = items(status)["canary/analysis-unsure"]
    assert "approved by" in item["message"]


def test_abort_during_an_inconclusive_pause_rolls_back(cli: CLI, fresh_lab: Lab) -> None:
    plan = _inconclusive_plan(cli, fresh_lab)
    assert _run(cli, fresh_lab, plan).returncode == 4
    result = cli("abort", "last", "--reason", "looks wrong", env=lab_env(fresh_lab, cli))
    assert result.returncode == 0, result.stdout + result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["traffic"]["weights"] == {"stable": 100, "canary": 0}
    assert _canary_served_after(fresh_lab) == 0


def test_kill_9_during_bake_then_resume_restores_weight_first(cli: CLI, fresh_lab: Lab) -> None:
    plan = write_plan(
        cli.cwd / "bake.yaml",
        fresh_lab,
        {
            "phases": [
                {
                    "id": "canary",
                    "steps": [
                        {"set_weight": 5},
                        {"id": "w25", "set_weight": 25, "bake": "6s"},
                        {"set_weight": 50},
                    ],
                }
            ],
        },
    )
    proc = cli.spawn("run", str(plan), env=lab_env(fresh_lab, cli))
    try:
        await_events(cli, "item.waiting", 1, what="the bake to start")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    # The router lost the weights meanwhile (nginx restarted with its default config).
    from tests.lab.conftest import set_nginx_weights

    set_nginx_weights(fresh_lab.router_server, {"stable": 100, "canary": 0})
    mark = len(journal(cli))
    result = cli("resume", "last", env=lab_env(fresh_lab, cli))
    assert result.returncode == 0, result.stdout + result.stderr
    after = [(e, d) for e, d, _ in journal(cli)[mark:]]
    changes = [d for e, d in after if e == "traffic.changed"]
    assert changes[0]["by"] == "resume" and changes[0]["applied"] == {"stable": 75, "canary": 25}
    first_change = next(i for i, (e, _) in enumerate(after) if e == "traffic.changed")
    assert not [e for e, _ in after[:first_change] if e == "item.started"]  # before anything
    # It continued from the bake: 5% was not set again, 25% was not re-applied, 50% followed.
    assert [c["applied"]["canary"] for c in changes] == [25, 50]
    assert cli.status()["traffic"]["weights"] == {"stable": 50, "canary": 50}


def test_promote_full_during_a_pause_skips_the_rest(cli: CLI, fresh_lab: Lab) -> None:
    plan = write_plan(
        cli.cwd / "promote.yaml",
        fresh_lab,
        {
            "analyses": {
                "errors": error_analysis(initial_delay="2s"),
                "once": error_analysis(count=1),
            },
            "phases": [
                {
                    "id": "canary",
                    "analysis": "errors",
                    "steps": [
                        {"set_weight": 10},
                        {"id": "hold", "pause": "300s"},
                        {"id": "w50", "set_weight": 50},
                        {"id": "check", "analysis": "once"},
                    ],
                }
            ],
        },
    )
    proc = cli.spawn("run", str(plan), env=lab_env(fresh_lab, cli))
    try:
        await_events(cli, "item.waiting", 1, what="the pause to start")
        asked = cli("promote", "last", "--full")
        assert asked.returncode == 0, asked.stderr
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    assert status["traffic"]["weights"] == {"stable": 0, "canary": 100}
    by_key = items(status)
    assert by_key["canary/hold"]["status"] == "succeeded"  # ended early, by the promote
    assert "promoted by" in by_key["canary/hold"]["message"]
    assert by_key["canary/w50"]["status"] == "skipped"
    assert by_key["canary/check"]["status"] == "skipped"
    assert by_key["canary/analysis"]["status"] == "skipped"


def test_abort_during_a_bake_sets_weight_0_at_once_then_rolls_back(
    cli: CLI, fresh_lab: Lab
) -> None:
    plan = write_plan(
        cli.cwd / "abort.yaml",
        fresh_lab,
        {
            "phases": [
                {
                    "id": "canary",
                    "steps": [
                        {"name": "deploy canary", "run": "true", "undo": "echo undone > undone"},
                        {"set_weight": 30, "bake": "300s"},
                    ],
                }
            ],
        },
    )
    proc = cli.spawn("run", str(plan), env=lab_env(fresh_lab, cli))
    try:
        await_events(cli, "item.waiting", 1, what="the bake to start")
        asked = cli("abort", "last", "--reason", "operator saw a bad graph")
        assert asked.returncode == 0, asked.stderr
        out, err = proc.communicate(timeout=60)  # not the 300 s bake
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 1, out + err
    events = [(e, d) for e, d, _ in journal(cli)]
    kinds = [e for e, _ in events]
    aborted = kinds.index("run.abort_requested")
    after = events[aborted:]
    changes = [d for e, d in after if e == "traffic.changed"]
    assert changes[0]["applied"] == {"stable": 100, "canary": 0}
    assert changes[0]["detection_latency"] >= 0  # from the abort to weight 0
    undo = next(i for i, (e, d) in enumerate(after) if e == "item.started" and "undo" in d["key"])
    first_change = next(i for i, (e, _) in enumerate(after) if e == "traffic.changed")
    assert first_change < undo  # weight 0 first, then the undo
    assert (cli.cwd / "undone").exists()
    assert _canary_served_after(fresh_lab) == 0
