"""`needs_binding`: a plan that validates but is not executable as written."""

from __future__ import annotations

import json

from tests.conftest import CLI, write_plan

UNBOUND = """
version: 1
name: unbound
traffic:
  needs_binding: the router behind the traffic table
triggers:
  - name: error-rate
    needs_binding: the metric source for "Error rate > 1%"
    check: {expr: "true"}
phases:
  - id: p
    steps:
      - run: touch ran
      - set_weight: 5
"""


def test_validate_lists_every_blocker_with_its_line(cli: CLI) -> None:
    write_plan(cli.cwd, UNBOUND)
    result = cli("validate", "plan.yaml")
    assert result.returncode == 2
    assert "valid" in result.stdout
    assert "not executable as written: 2 things to bind first" in result.stderr
    assert "plan.yaml:4: traffic: needs binding: the router" in result.stderr
    assert 'plan.yaml:7: triggers[0]: needs binding: the metric source for "Error rate' in (
        result.stderr
    )
    as_json = cli("validate", "plan.yaml", "--json")
    assert as_json.returncode == 2
    doc = json.loads(as_json.stdout)
    assert doc["valid"] is True and doc["executable"] is False
    assert [b["line"] for b in doc["blockers"]] == [4, 7]


def test_run_refuses_an_unbound_plan_and_runs_nothing(cli: CLI) -> None:
    write_plan(cli.cwd, UNBOUND)
    result = cli("run", "plan.yaml")
    assert result.returncode == 2
    assert "not executable as written" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.cwd / "ran").exists()
    assert cli.json("history") == []


def test_a_bound_plan_is_executable(cli: CLI) -> None:
    write_plan(
        cli.cwd,
        UNBOUND.replace(
            "  needs_binding: the router behind the traffic table", "  router: {command: 'true'}"
        ).replace('    needs_binding: the metric source for "Error rate > 1%"\n', ""),
    )
    result = cli("validate", "plan.yaml", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["executable"] is True
