"""Roles and structure of imported Markdown, checked by running the import for real (issue 11).

Each test imports a document of /work/shared/markdown-cases (or an inline variant of its class)
with the real CLI, runs the plan, and asserts the marker files and the journal.
"""

from __future__ import annotations

from tests.conftest import CLI
from tests.markdown.cases_harness import Ran, import_case


def test_harness_runs_an_imported_document_and_sees_its_markers(cli: CLI) -> None:
    doc = '# Release\n\n## Phase 1: Deploy\n\n```bash\ntouch "$RUN_DIR/deployed"\n```\n'
    case = import_case(cli, "inline.md", text=doc)
    assert case.returncode == 0, case.stderr
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"deployed"}
    assert [(i["phase"], i["kind"], i["status"]) for i in ran.items()] == [
        ("phase-1-deploy", "step", "succeeded")
    ]


def _keys(ran: Ran) -> list[tuple[str, str, str]]:
    return [(i["phase"], i["kind"], i["status"]) for i in ran.items()]


def test_01_conditional_block_is_recovery_and_options_are_one_decision(cli: CLI) -> None:
    case = import_case(cli, "01")
    assert case.returncode == 0, case.stderr
    ran = case.run()
    # the forward step ran; the "If … fails" block did not, and neither option ran by itself:
    # the run pauses at the decision (exit 4)
    assert ran.returncode == 4, ran.stderr
    assert ran.markers == {"schema-deployed"}
    [waiting] = ran.awaiting()
    assert waiting["name"].startswith("Decide: option-a")
    [decision] = case.report["decisions"]
    assert decision["choices"] == ["option-a-automated-cutover", "option-b-manual-cutover"]
    first = case.plan["phases"][0]
    assert "SCHEMA-DROPPED" in first["rollback"][0]["run"]
    # the operator chooses option B: only B runs, and never the drop
    # approving without naming an option is refused: it would run neither
    assert cli("approve", ran.run_id, input="").returncode == 2
    approved = cli("approve", ran.run_id, "--choose", "option-b-manual-cutover", input="")
    assert approved.returncode == 0, approved.stderr
    resumed = _ran_after(cli, "resume", ran.run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.markers == {"schema-deployed", "option-b"}
    # rolled back, the recovery action is the phase's rollback: it runs only then
    back = case.rollback(resumed)
    assert "SCHEMA-DROPPED" in back.markers


def test_02_a_rollback_runbook_run_forward_performs_the_rollback(cli: CLI) -> None:
    ran = import_case(cli, "02").run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"rolled-back"}
    assert ("step-3-verify", "gate", "passed") in _keys(ran)


def test_03_rollback_in_details_and_under_a_bold_lead_in_runs_only_on_rollback(
    cli: CLI,
) -> None:
    case = import_case(cli, "03")
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"deployed", "switched"}
    rollback = {p["id"]: [r["run"] for r in p.get("rollback", [])] for p in case.plan["phases"]}
    assert rollback == {
        "phase-1-deploy": ['touch "$RUN_DIR/ROLLED-BACK-1"'],
        "phase-2-switch-traffic": ['touch "$RUN_DIR/ROLLED-BACK-2"'],
    }
    back = case.rollback(ran)
    assert {"ROLLED-BACK-1", "ROLLED-BACK-2"} <= back.markers


def test_07_human_decisions_pause_the_run_in_place(cli: CLI) -> None:
    case = import_case(cli, "07")
    ran = case.run()
    assert ran.returncode == 4, ran.stderr
    assert ran.markers == {"paper"}  # nothing after "flip to live" ran
    [waiting] = ran.awaiting()
    assert waiting["phase"] == "step-2-flip-to-live"
    ran = case.approve(ran)  # flip to live confirmed: the prose procedure pauses next
    assert ran.returncode == 4, ran.stderr
    assert "old-server-stopped" not in ran.markers
    [waiting] = ran.awaiting()
    assert "Drain the old server" in waiting["name"]
    ran = case.approve(ran)
    assert "old-server-stopped" in ran.markers
    [signoff] = ran.awaiting()
    assert signoff["name"] == "Sign-off by Engineering lead, Operations lead"
    step = case.plan["phases"][-1]["steps"][0]
    assert step["pause"] == {"until": "approve", "approvers": 2}


def test_08_a_title_is_not_a_phase_and_repeated_headings_merge(cli: CLI) -> None:
    case = import_case(cli, "08")
    assert [p["id"] for p in case.plan["phases"]] == ["phase-1-deploy", "phase-2-switch"]
    ran = case.run()
    assert ran.returncode == 4  # the merged checklist item is Phase 1's (unchecked) gate
    assert ran.markers == {"p1"}
    assert _keys(ran)[:2] == [
        ("phase-1-deploy", "step", "succeeded"),
        ("phase-1-deploy", "gate", "awaiting_approval"),
    ]


def test_09_a_phase_numbered_h1_yields_its_task_groups_in_order(cli: CLI) -> None:
    ran = import_case(cli, "09").run()
    assert ran.returncode == 0, ran.stderr
    assert _keys(ran) == [
        ("task-group-6-1-pre-flight", "gate", "passed"),
        ("task-group-6-2-migrate", "step", "succeeded"),
        ("task-group-6-3-verify", "gate", "passed"),
    ]


def test_14_an_empty_document_is_refused_by_import_validate_and_run(cli: CLI) -> None:
    case = import_case(cli, "14")
    assert case.returncode == 2
    assert "nothing to run" in case.stderr
    for verb in ("validate", "run"):
        result = cli(verb, str(case.doc), input="")
        assert result.returncode == 2, verb
        assert "nothing to run" in result.stderr
        assert "Traceback" not in result.stderr


def test_reference_sections_never_run(cli: CLI) -> None:
    doc = (
        '# Release\n\n## Phase 1: Deploy\n\n```bash\ntouch "$RUN_DIR/deployed"\n```\n\n'
        '## Troubleshooting\n\n```bash\ntouch "$RUN_DIR/TROUBLESHOOT"\n```\n\n'
        '## Examples\n\n```bash\ntouch "$RUN_DIR/EXAMPLE"\n```\n\n'
        "## Contacts\n\n| Role | Name |\n|---|---|\n| On-call | Ann |\n"
    )
    case = import_case(cli, "ref.md", text=doc)
    ran = case.run()
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"deployed"}
    assert [p["id"] for p in case.plan["phases"]] == ["phase-1-deploy"]


def _ran_after(cli: CLI, *args: str) -> Ran:
    from tests.markdown.cases_harness import _ran

    return _ran(cli, cli(*args, "--no-output", input=""))
