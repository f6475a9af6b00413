"""Real runs through the CLI with notifications: receivers up, down, and `notify test`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phasegate.notify.webhook import verify
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.notify.receivers import HttpReceiver, closed_port, http_receiver

PLAN = """\
version: 1
name: web
vars:
  HOOK_SECRET: {env: HOOK_SECRET, secret: true}
  PD_KEY: {env: PD_KEY, secret: true}
phases:
  - id: deploy
    steps:
      - {name: ship, run: "echo shipped", undo: "echo unshipped"}
    gates:
      - {id: health, command: "false"}
"""

NOTIFY = """\
notify:
  channels:
    audit: {{webhook: {{url: "{audit}/hook", secret: "${{HOOK_SECRET}}"}}}}
    pager: {{pagerduty: {{routing_key: "${{PD_KEY}}", url: "{pager}/v2/enqueue"}}}}
    ops: {{slack: {{webhook_url: "{slack}/services/T1/B1/sl4cktoken"}}}}
  routes:
    - {{events: ["*"], channels: [audit]}}
    - {{events: ["rollback.*", gate.failed], min_severity: critical, channels: [pager, ops]}}
  retries: 1
  backoff: 10ms
  timeout: 5s
  link_base: http://dashboard.test
"""
ENV = {"HOOK_SECRET": "hook-secret-123", "PD_KEY": "pd-routing-key-456"}


def journal(cli: CLI) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    store = SqliteStore(cli.state_dir)
    try:
        [run_id] = store.run_ids()
        return run_id, [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.close()


def outcomes(events: list[tuple[str, dict[str, Any]]], kind: str) -> set[tuple[str, str]]:
    return {(d["channel"], d["event"]) for t, d in events if t == f"notification.{kind}"}


def test_failing_gate_notifies_and_rolls_back_as_without_notifications(cli: CLI) -> None:
    bare = write_plan(cli.cwd, PLAN, "bare.yaml")
    without = cli("run", str(bare), env=ENV)
    assert without.returncode == 1, without.stderr

    other = CLI(state_dir=cli.state_dir.parent / "state-notify", cwd=cli.cwd)
    with http_receiver() as audit, http_receiver() as pager:
        slack = f"http://127.0.0.1:{closed_port()}"  # down
        plan = write_plan(
            cli.cwd, PLAN + NOTIFY.format(audit=audit.url, pager=pager.url, slack=slack)
        )
        result = other("run", str(plan), env=ENV)
        assert result.returncode == without.returncode == 1, result.stderr
        run_id, events = journal(other)
        _check_receivers(run_id, audit, pager)
    assert other.status()["run"]["status"] == "rolled_back"

    sent = outcomes(events, "sent")
    assert {
        ("audit", "run.started"),
        ("audit", "gate.failed"),
        ("audit", "rollback.started"),
        ("audit", "rollback.finished"),
        ("audit", "run.failed"),
        ("pager", "gate.failed"),
        ("pager", "rollback.started"),
    } <= sent
    # rollback.finished (rolled back cleanly) is a warning: no route sends it to the pager.
    assert ("pager", "rollback.finished") not in sent
    failed = [d for t, d in events if t == "notification.failed"]
    assert {(d["channel"], d["event"]) for d in failed} == {
        ("ops", "gate.failed"),
        ("ops", "rollback.started"),
    }
    assert all(d["attempts"] == 2 and d["kind"] == "slack" for d in failed)
    everything = json.dumps(events)
    assert "sl4cktoken" not in everything
    assert "hook-secret-123" not in everything and "pd-routing-key-456" not in everything

    check = other("check")
    assert check.returncode == 0, check.stdout + check.stderr
    report = other.status()  # the report document
    assert {n["channel"] for n in report["notifications"]} == {"audit", "pager", "ops"}


def _check_receivers(run_id: str, audit: HttpReceiver, pager: HttpReceiver) -> None:
    hooks = audit.by_path("/hook")
    assert hooks, "the audit webhook received nothing"
    for request in hooks:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert verify(
            "hook-secret-123",
            headers["x-phasegate-timestamp"],
            request.body,
            headers["x-phasegate-signature"],
        )
    bodies = [r.json() for r in hooks]
    assert all(b["run_id"] == run_id and b["plan"] == "web" for b in bodies)
    assert all(b["link"] == f"http://dashboard.test/runs/{run_id}" for b in bodies)
    gate = next(b for b in bodies if b["event"] == "gate.failed")
    assert gate["severity"] == "critical" and "health" in gate["summary"]
    finished = next(b for b in bodies if b["event"] == "rollback.finished")
    assert (
        finished["details"]["status"] == "rolled_back"
        and "rollback rolled_back in" in (finished["summary"])
    )
    pages = [r.json() for r in pager.by_path("/v2/enqueue")]
    assert {p["event_action"] for p in pages} == {"trigger"}
    assert {p["dedup_key"] for p in pages} == {f"phasegate-{run_id}"}
    assert {p["routing_key"] for p in pages} == {"pd-routing-key-456"}


def test_succeeding_run_resolves_the_incident(cli: CLI) -> None:
    with http_receiver() as pager:
        plan = write_plan(
            cli.cwd,
            PLAN.replace('command: "false"', 'command: "true"')
            + "notify:\n"
            + "  channels:\n"
            + f'    pager: {{pagerduty: {{routing_key: "${{PD_KEY}}", url: "{pager.url}"}}}}\n'
            + '  routes: [{events: ["*"], channels: [pager]}]\n',
        )
        result = cli("run", str(plan), env=ENV)
        assert result.returncode == 0, result.stderr
        actions = [r.json()["event_action"] for r in pager.requests]
    assert actions == ["resolve"]  # run.started is informational: it does not page
    _, events = journal(cli)
    assert outcomes(events, "sent") == {("pager", "run.started"), ("pager", "run.succeeded")}


def test_notify_test_reports_each_channel(cli: CLI, tmp_path: Path) -> None:
    with http_receiver() as audit, http_receiver() as pager:
        slack = f"http://127.0.0.1:{closed_port()}"
        text = PLAN + NOTIFY.format(audit=audit.url, pager=pager.url, slack=slack)
        plan = write_plan(cli.cwd, text)
        result = cli("notify", "test", str(plan), env=ENV)
        assert result.returncode == 1, result.stderr
        lines = result.stdout.splitlines()
        assert any(line.startswith("✓ audit (webhook") for line in lines), result.stdout
        assert any(line.startswith("✓ pager (pagerduty") for line in lines), result.stdout
        assert any(line.startswith("✗ ops (slack") and "2 attempts" in line for line in lines)
        assert "sl4cktoken" not in result.stdout
        test_hook = audit.requests[0].json()
        assert test_hook["test"] is True and test_hook["event"] == "test"
        assert [r.json()["event_action"] for r in pager.requests] == ["trigger", "resolve"]

        healthy = write_plan(
            cli.cwd, text.replace(f"{slack}/services", f"{audit.url}/services"), "ok.yaml"
        )
        ok = cli("notify", "test", str(healthy), "--json", env=ENV)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert json.loads(ok.stdout)["ok"] is True
    assert not cli.state_dir.exists()  # a test message starts no run


def test_notify_test_without_channels_is_a_usage_error(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    result = cli("notify", "test", str(plan))
    assert result.returncode == 2
    assert "configures no notification channels" in result.stderr
