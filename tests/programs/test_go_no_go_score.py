"""A weighted score on go_no_go: named checks `{name, weight, hard, check}` judged by the
readiness arithmetic (10 x passing weight / total, `min_score`, hard ones a no-go whatever
the score), one gate `PHASE/gate:go-no-go-score` between the plain hard checks and the
approvers, journalled with each check's weight, and located validation errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan
from phasegate.plan.program import GoNoGo, NamedCheck, ScoredChecks, no_go_action
from phasegate.plan.schema import plan_json_schema
from phasegate.registry import check_kind
from tests.conftest import CLI, items
from tests.programs.builders import child_plan, ledger


def _write(directory: Path, go_no_go: str, ledger_path: Path | None = None) -> Path:
    (directory / "children").mkdir(exist_ok=True)
    for name in ("shadow", "cutover"):
        (directory / "children" / f"{name}.yaml").write_text(child_plan(name))
    where = ledger_path or directory / "ledger.txt"
    path = directory / "program.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: program
            phases:
              - id: shadow
                run_plan: children/shadow.yaml
                vars: {{LEDGER: {where}}}
              - id: cutover
                needs: [shadow]
                run_plan: children/cutover.yaml
                vars: {{LEDGER: {where}}}
                go_no_go:
            """
        ).lstrip()
        + textwrap.indent(textwrap.dedent(go_no_go).strip(), " " * 6)
        + "\n"
    )
    return path


def test_loader_orders_hard_checks_then_the_score_then_the_approvers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        checks:
          - command: "true"
          - {name: errors, weight: 3, check: "true"}
          - {name: latency, weight: 1, check: {file: latency.ok}}
          - {name: oncall, hard: true, check: "true"}
          - expr: "true"
        min_score: 7
        approvers: 1
        """,
    )
    plan = load_plan(path).plan
    step = plan.phase("cutover").steps[-1]
    assert [g.id for g in step.pre_gates] == [
        "go-no-go-1",
        "go-no-go-2",
        "go-no-go-score",
        "go-no-go",
    ]
    score = step.pre_gates[2]
    assert isinstance(score, ScoredChecks)
    assert [(c.name, c.weight, c.hard) for c in score.checks] == [
        ("errors", 3, False),
        ("latency", 1, False),
        ("oncall", 1, True),  # default weight 1: a hard one also scores
    ]
    assert score.min_score == 7
    assert score.expectation().startswith("score >= 7") and "hard: oncall" in score.expectation()
    # Editors' schema agrees with the loader.
    jsonschema.Draft202012Validator(plan_json_schema()).validate(yaml.safe_load(path.read_text()))
    # Without named checks there is no score gate (the plain checks and approvers as before).
    plain = _write(tmp_path, "checks: [{command: 'true'}]\napprovers: 1")
    gates = load_plan(plain).plan.phase("cutover").steps[-1].pre_gates
    assert [g.id for g in gates] == ["go-no-go-1", "go-no-go"]


def _problems(tmp_path: Path, go_no_go: str) -> list[tuple[int | None, int | None, str]]:
    path = _write(tmp_path, go_no_go)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_validation_errors_are_located(tmp_path: Path) -> None:
    # Line 12 is the go_no_go's first line (`checks:`).
    [(line, column, message)] = _problems(
        tmp_path,
        """
        checks:
          - {name: errors, weight: 2, check: "true"}
          - {name: latency, weight: -1, check: "true"}
        """,
    )
    assert (line, column) == (14, 35) and "must be at least 0.0, got -1" in message
    [(line, _, message)] = _problems(
        tmp_path,
        """
        checks:
          - name: errors
            weight: 2
            check: {comand: "true"}
        """,
    )
    assert line == 15 and "unknown check kind 'comand'" in message
    [(line, _, message)] = _problems(tmp_path, "checks:\n  - {name: errors, weight: 2}\n")
    assert line == 13 and "needs `check:`" in message
    [(_, _, message)] = _problems(
        tmp_path, 'checks: [{name: a, check: "true"}, {name: a, check: "false"}]'
    )
    assert "distinct names: a twice" in message
    [(_, _, message)] = _problems(tmp_path, 'checks: [{name: a, weight: 0, check: "true"}]')
    assert "neither scores nor blocks" in message
    [(line, _, message)] = _problems(tmp_path, 'checks: [{name: a, check: "true"}]\nmin_score: 11')
    assert line == 13 and "must be at most 10.0, got 11" in message


def test_score_gate_is_a_no_go_until_it_reaches_min_score_and_is_journalled(cli: CLI) -> None:
    plan = _write(
        cli.cwd,
        """
        checks:
          - {name: errors, weight: 3, check: test -f errors.ok}
          - {name: latency, weight: 1, check: {file: latency.ok}}
          - {name: oncall, weight: 0, hard: true, check: test -f oncall.ok}
        min_score: 8
        on_no_go: pause
        """,
    )
    (cli.cwd / "errors.ok").write_text("")
    (cli.cwd / "oncall.ok").write_text("")
    assert cli("run", str(plan)).returncode == 4
    run = str(next(r for r in cli.json("history") if r["plan_name"] == "program")["id"])
    status = cli.status(run)
    assert status["failure"]["item"] == "cutover/gate:go-no-go-score"
    assert status["failure"]["action"] == "pause"  # on_no_go
    gate = items(status)["cutover/gate:go-no-go-score"]
    assert gate["status"] == "failed"
    assert gate["observed"]["score"] == 7.5 and gate["observed"]["min_score"] == 8
    journalled = {c["check"]: c for c in gate["observed"]["checks"]}
    assert {n: (c["weight"], c["hard"], c["status"]) for n, c in journalled.items()} == {
        "errors": (3, False, "passed"),
        "latency": (1, False, "failed"),
        "oncall": (0, True, "passed"),
    }
    assert "score 7.5 < 8 (failed: latency)" in gate["message"]
    assert [c["phase"] for c in status["program"]["children"]] == ["shadow"]  # no cutover run

    # Score 10, but the hard check now fails: still a no-go, whatever the score.
    (cli.cwd / "latency.ok").write_text("")
    (cli.cwd / "oncall.ok").unlink()
    assert cli("resume", run).returncode == 4
    gate = items(cli.status(run))["cutover/gate:go-no-go-score"]
    assert gate["observed"]["score"] == 10
    assert gate["message"] == "no-go: hard check oncall failed"

    (cli.cwd / "oncall.ok").write_text("")
    assert cli("resume", run).returncode == 0
    final = cli.status(run)
    assert final["run"]["status"] == "succeeded"
    gate = items(final)["cutover/gate:go-no-go-score"]
    assert (gate["status"], gate["message"]) == ("passed", "score 10 >= 8")
    assert ledger(cli.cwd).count("cutover-step-1") == 1
    report = cli("report", run, "--format", "md").stdout
    assert "score 10 &gt;= 8" in report  # the item's message, escaped for Markdown


def test_a_score_no_go_takes_on_no_go_default_rollback(tmp_path: Path) -> None:
    # The score gate is a go/no-go gate: its failure action is `on_no_go` (default: roll the
    # children back), not the plan's `on_failure`.
    plan = load_plan(_write(tmp_path, 'checks: [{name: a, check: "false"}]')).plan
    assert no_go_action(plan.phase("cutover"), "go-no-go-score") == "rollback"
    paused = _write(tmp_path, 'checks: [{name: a, check: "false"}]\non_no_go: pause')
    assert no_go_action(load_plan(paused).plan.phase("cutover"), "go-no-go-score") == "pause"


def test_named_check_model_is_shared_with_readiness() -> None:
    # One NamedCheck class for both: the go/no-go reuses readiness's shape and arithmetic.
    check = check_kind("command").model_validate({"command": "true"})
    decision = GoNoGo.model_validate(
        {"checks": [NamedCheck.model_validate({"name": "a", "check": check}), check]}
    )
    assert decision.scored() and decision.min_score == 8
    assert decision.hard_checks() == [check]
