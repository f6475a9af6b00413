"""go_no_go on a program phase: hard checks, then approvers (the manual gate machinery, with
prevent_self_review); a failed check or `phasegate reject` is a no-go handled as `on_no_go`
says; the decision is in the journal and the report."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import CLI, items
from tests.programs.builders import child_plan, ledger


def _program(cli: CLI, go_no_go: str) -> Path:
    (cli.cwd / "children").mkdir()
    for name in ("shadow", "cutover"):
        (cli.cwd / "children" / f"{name}.yaml").write_text(child_plan(name))
    ledger_path = cli.cwd / "ledger.txt"
    path = cli.cwd / "program.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: program
            phases:
              - id: shadow
                run_plan: children/shadow.yaml
                vars: {{LEDGER: {ledger_path}}}
              - id: cutover
                needs: [shadow]
                run_plan: children/cutover.yaml
                vars: {{LEDGER: {ledger_path}}}
                go_no_go:
            """
        ).lstrip()
        + textwrap.indent(textwrap.dedent(go_no_go).strip(), " " * 6)
        + "\n"
    )
    return path


def _parent_id(cli: CLI) -> str:
    return str(next(r for r in cli.json("history") if r["plan_name"] == "program")["id"])


def test_failing_check_pauses_then_approval_lets_the_child_go(cli: CLI) -> None:
    plan = _program(
        cli,
        """
        checks:
          - command: test -f mismatch-ok.flag
        approvers: 1
        on_no_go: pause
        """,
    )
    assert cli("run", str(plan)).returncode == 4
    run = _parent_id(cli)
    status = cli.status(run)
    assert status["failure"]["item"] == "cutover/gate:go-no-go-1"
    assert status["failure"]["action"] == "pause"
    assert [c["phase"] for c in status["program"]["children"]] == ["shadow"]  # no cutover run
    (cli.cwd / "mismatch-ok.flag").write_text("")
    assert cli("resume", run).returncode == 4  # the check passes; now the approvers decide
    assert cli.status(run)["pause"]["items"] == ["cutover/gate:go-no-go"]
    assert cli("approve", run, "--check", "go-no-go", "--comment", "shadow clean").returncode == 0
    assert cli("resume", run).returncode == 0
    final = cli.status(run)
    assert final["run"]["status"] == "succeeded"
    assert items(final)["cutover/gate:go-no-go"]["status"] == "passed"
    assert [d["decision"] for d in final["decisions"]] == ["approved"]
    assert ledger(cli.cwd).count("cutover-step-1") == 1


def test_reject_with_on_no_go_abort_stops_without_rolling_back(cli: CLI) -> None:
    plan = _program(
        cli,
        """
        approvers: 1
        prevent_self_review: true
        question: shadow mismatch under 0.1% over 10k events?
        on_no_go: abort
        """,
    )
    assert cli("run", str(plan)).returncode == 4
    run = _parent_id(cli)
    # The four-eyes rule of the manual gate machinery: the starter cannot approve.
    refused = cli("approve", run, "--check", "go-no-go")
    assert refused.returncode != 0 and "prevent_self_review" in refused.stderr
    no_go = cli("reject", run, "go-no-go", "--comment", "mismatch 0.4%")
    status = cli.status(run)
    assert status["run"]["status"] == "failed", no_go.stderr
    assert status["failure"]["action"] == "abort"
    assert status["decisions"][0]["decision"] == "rejected"
    assert status["decisions"][0]["comment"] == "mismatch 0.4%"
    shadow = status["program"]["children"][0]
    assert shadow["status"] == "succeeded"  # abort: the shadow child is left as it is
    assert not any("undo" in line for line in ledger(cli.cwd))
    report = cli("report", run, "--format", "md").stdout
    assert "mismatch 0.4%" in report


def test_reject_by_default_rolls_back_the_children(cli: CLI) -> None:
    plan = _program(cli, "approvers: 1")
    assert cli("run", str(plan)).returncode == 4
    run = _parent_id(cli)
    assert cli("reject", run, "go-no-go", "--comment", "not today").returncode == 0
    status = cli.status(run)
    assert status["run"]["status"] == "rolled_back"
    assert status["program"]["children"][0]["status"] == "rolled_back"
    assert ledger(cli.cwd)[-2:] == ["shadow-undo-2", "shadow-undo-1"]
