"""`phasegate plan` shows what the run will do, as it will do it: variables expanded with secrets
masked, retry, warn-only checks, hold, timeouts, budgets with units, triggers and the rollback
verification (issue 10 §3 CLI)."""

from __future__ import annotations

import json

from tests.conftest import CLI, write_plan

PLAN = """
version: 1
name: full
vars:
  TARGET: ./site
  TOKEN: {env: PG_UX_TOKEN, secret: true}
  HOST: {env: PG_UX_UNSET_HOST}
  URL: "http://127.0.0.1:8080/${TARGET}"
defaults: {timeout: 5m}
budget: {duration: 1h30m, rollback: 90s}
triggers:
  - name: health
    check: {http: "${URL}/healthz", retry: {attempts: 2, every: 500ms}}
    every: 5s
    fail_after: 1
    action: alert
phases:
  - id: deploy
    rollback_budget: 2m
    steps:
      - id: ship
        run: ./deploy.sh --target ${TARGET} --token ${TOKEN} --host ${HOST}
        undo: ./undeploy.sh ${TARGET}
        retries: 2
        timeout: 30s
      - id: quick
        run: "true"
    gates:
      - id: up
        http: "${URL}/healthz"
        expect: {status: 200}
        retry: {attempts: 10, every: 1s}
      - id: soft
        command: "grep -q ok ${TARGET}/status"
        severity: warn
        hold_for: 30s
        every: 5s
    rollback:
      - run: cp -a ${RUN_DIR}/backup/. ${TARGET}/
verify_rollback:
  - id: restored
    file: "${TARGET}/index.html"
    retry: {attempts: 3, every: 2s}
"""

SECRET = "hunter2-from-env"


def _line(out: str, start: str) -> str:
    return next(x for x in out.splitlines() if x.lstrip().startswith(start))


def test_plan_shows_every_option_with_units_and_expanded_variables(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    result = cli("plan", str(plan), env={"PG_UX_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert SECRET not in out
    step = _line(out, "step ship:")
    # Expanded, the secret masked, the unset environment variable left as written.
    assert "./deploy.sh --target ./site --token *** --host ${HOST}" in step
    assert "[timeout 30s, 2 retries (backoff 1s, doubling)]" in step
    # The plan's default step timeout applies to a step that sets none.
    assert "[timeout 5m]" in _line(out, "step quick:")
    assert "undo: ./undeploy.sh ./site" in out
    up = _line(out, "gate up:")
    assert "GET http://127.0.0.1:8080/./site/healthz — status 200" in up
    assert "retry 10× every 1s" in up and "timeout 5m" in up
    soft = _line(out, "gate soft:")
    assert "grep -q ok ./site/status" in soft
    assert "warn only" in soft and "hold for 30s (every 5s)" in soft
    assert "rollback: cp -a <RUN_DIR>/backup/. ./site/" in out
    assert "rollback budget of this phase: 2m" in out
    trigger = _line(out, "health:")
    assert "every 5s" in trigger and "trips after 1 consecutive failure -> alert" in trigger
    assert "retry 2× every 500ms" in trigger
    assert "verify rollback:" in out
    assert "restored: file ./site/index.html — exists  [retry 3× every 2s" in out
    assert "budget: duration 1h30m, rollback 1m30s" in out
    assert "${TARGET}" not in out and "${URL}" not in out


def test_plan_json_carries_the_same_details(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    result = cli("plan", str(plan), "--json", env={"PG_UX_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout
    data = json.loads(result.stdout)
    phase = data["phases"][0]
    ship = phase["steps"][0]
    assert ship["timeout"] == 30.0 and ship["retries"] == 2 and ship["backoff"] == 1.0
    assert ship["shown"]["command"].endswith("--token *** --host ${HOST}")
    gates = {g["id"]: g for g in phase["gates"]}
    assert gates["up"]["retry"] == {"attempts": 10, "every": 1.0}
    assert gates["soft"]["severity"] == "warn" and gates["soft"]["hold_for"] == 30.0
    assert data["verify_rollback_checks"][0]["retry"] == {"attempts": 3, "every": 2.0}
    assert data["triggers"][0]["every"] == 5.0
    assert data["budget"] == {"duration": 5400.0, "rollback": 90.0}


def test_a_plan_without_budgets_says_none(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: bare
        phases: [{id: a, steps: [{run: "true"}]}]
        """,
    )
    out = cli("plan", str(plan)).stdout
    assert "budget: duration none, rollback none; default timeouts: step none, check 1m" in out
