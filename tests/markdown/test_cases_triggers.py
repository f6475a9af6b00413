"""Which lists become triggers, and with which action (issue 11 §6; case 04), run for real.

Only conditions stated as failures become triggers, with the action the document names; a
success criterion is a gate; preconditions are manual gates before Phase 1; a condition that
reads as a healthy state inside a failure list is a question for a human (a needs-binding
step with its Markdown line), never a trigger that fires on a healthy system.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.markdown import import_markdown, polarity
from tests.conftest import CLI
from tests.markdown.cases_harness import Imported, Ran, import_case


def _bind(case: Imported, *, slow_step: bool = False) -> dict[str, Any]:
    """What an author does after import: each trigger's metric becomes a command printing
    ``$RUN_DIR/<trigger name>`` (0 until the test writes it), checked every second; the
    step asking whether "Performance degradation < 50%" is a failure is answered (deleted)."""
    data = yaml.safe_load(case.plan_path.read_text(encoding="utf-8"))
    for trigger in data["triggers"]:
        del trigger["needs_binding"]
        trigger["check"]["metric"] = f'cat "$RUN_DIR/{trigger["name"]}" 2>/dev/null || echo 0'
        trigger["check"]["provider"] = {"command": {}}
        trigger["every"] = "1s"
    for phase in data["phases"]:
        phase["steps"] = [s for s in phase.get("steps", []) if "needs_binding" not in s]
        if not phase["steps"]:
            del phase["steps"]
    if slow_step:  # hold Phase 1 long enough for the triggers to be evaluated a few times
        deploy = next(p for p in data["phases"] if p["id"] == "phase-1-deploy")
        deploy["steps"].append({"run": "sleep 4"})
    case.plan_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return data


def _approve_phase(case: Imported, ran: Ran, phase: str) -> Ran:
    """Approve what the run waits for in ``phase`` (one approval per resume) until it moves on."""
    for _ in range(5):
        if not any(i["phase"] == phase for i in ran.awaiting()):
            return ran
        ran = case.approve(ran)
    raise AssertionError(f"{phase} still waits: {ran.awaiting()}")


def _write(ran: Ran, values: dict[str, str]) -> None:
    run_dir = Path(ran.status["vars"]["RUN_DIR"])
    for name, value in values.items():
        (run_dir / name).write_text(value + "\n")


def test_04_roles_triggers_gates_and_what_needs_a_human(cli: CLI) -> None:
    case = import_case(cli, "04")
    assert case.returncode == 0, case.stderr
    plan = case.plan
    # only the stated failure conditions are triggers, each with the action the document names
    found = {t["name"]: (t["check"]["failure"], t["action"]) for t in plan["triggers"]}
    assert found == {
        "error-rate": ("value > 0.05", "rollback"),  # "Automatic rollback triggers"
        "latency-p95": ("value > 0.8", "alert"),  # "Monitor and decide (no automatic action)"
    }
    phases = {p["id"]: p for p in plan["phases"]}
    assert list(phases) == ["preconditions", "phase-1-deploy", "success-criteria"]
    # preconditions: manual gates of a phase Phase 1 needs
    assert [g["manual"] for g in phases["preconditions"]["gates"]] == [
        "Backups verified and restorable",
        "Staging environment available",
    ]
    assert phases["phase-1-deploy"]["needs"] == ["preconditions"]
    # success criteria are gates ("< 1%" is the good state), not triggers
    assert [g["manual"] for g in phases["success-criteria"]["gates"]] == [
        "Error rate < 1%",
        "All health checks passing",
    ]
    # selection criteria are nothing the run does
    text = yaml.safe_dump(plan)
    assert "relationship" not in text and "feedback" not in text
    # "Performance degradation < 50%" reads as a healthy state: a human binds it
    [ask] = [s for p in plan["phases"] for s in p.get("steps", []) if "needs_binding" in s]
    assert ask["pause"] == "approve" and "Performance degradation < 50%" in ask["name"]
    [refused] = case.report["not_triggers"]
    assert refused["line"] == 23 and refused["what"] == "Performance degradation < 50%"
    # validate names the document's line; run refuses until it is bound
    checked = cli("validate", str(case.doc))
    assert checked.returncode == 2
    assert f"{case.doc.name}:23:" in checked.stderr and "Performance degradation" in checked.stderr
    refused_run = case.run()
    assert refused_run.returncode == 2 and refused_run.markers == set()


def test_04_bound_preconditions_pause_before_phase_1_and_an_alert_never_rolls_back(
    cli: CLI,
) -> None:
    case = import_case(cli, "04")
    _bind(case, slow_step=True)
    first = case.run()
    assert first.returncode == 4, first.stderr
    assert first.markers == set()  # nothing deployed before the preconditions are confirmed
    assert {i["phase"] for i in first.awaiting()} == {"preconditions"}
    # a healthy error rate (2 % is under the 5 % rollback line) and a latency over the alert
    # line: the alert fires, the run is not rolled back
    _write(first, {"error-rate": "0.02", "latency-p95": "0.95"})
    second = _approve_phase(case, first, "preconditions")
    assert second.returncode == 4, second.stderr  # the success criteria wait for a person
    assert "deployed" in second.markers
    watched = {name: t["status"] for name, t in second.status["triggers"].items()}
    assert watched["latency-p95"] == "tripped", second.status["triggers"]
    assert watched["error-rate"] != "tripped"
    done = _approve_phase(case, second, "success-criteria")
    assert done.returncode == 0, done.stderr
    assert done.status["run"]["status"] == "succeeded"


def test_04_the_rollback_trigger_rolls_back_only_above_its_line(cli: CLI) -> None:
    case = import_case(cli, "04")
    _bind(case, slow_step=True)
    first = case.run()
    _write(first, {"error-rate": "0.06"})
    rolled = _approve_phase(case, first, "preconditions")
    assert rolled.returncode == 1, rolled.stderr
    assert rolled.status["run"]["status"] == "rolled_back"


# -- the polarity classifier ---------------------------------------------------------------

_HIGH_IS_BAD = [
    "error rate",
    "p95 latency",
    "5xx rate",
    "crash rate",
    "performance degradation",
    "CPU usage",
    "queue depth",
    "error budget burn rate",
    "timeouts",
]
_LOW_IS_BAD = [
    "success rate",
    "availability",
    "throughput",
    "apdex",
    "error budget remaining",
    "conversion",
    "healthy hosts",
    "free disk space",
]


def test_polarity_reads_what_is_measured() -> None:
    for metric in _HIGH_IS_BAD:
        assert polarity.measured(metric) == "high_is_bad", metric
    for metric in _LOW_IS_BAD:
        assert polarity.measured(metric) == "low_is_bad", metric
    assert polarity.measured("widget count") is None
    assert polarity.describes_failure("widget count", ">") is None
    assert polarity.text_is_failure("Health checks failing") is True
    assert polarity.text_is_failure("All health checks passing") is False
    assert polarity.text_is_failure("No errors in the logs") is False
    assert polarity.text_is_failure("Executive decision") is None


@given(
    metric=st.sampled_from(_HIGH_IS_BAD + _LOW_IS_BAD),
    op=st.sampled_from([">", ">=", "<", "<="]),
)
def test_a_condition_and_its_opposite_never_both_describe_a_failure(metric: str, op: str) -> None:
    opposite = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}[op]
    here = polarity.describes_failure(metric, op)
    there = polarity.describes_failure(metric, opposite)
    assert here is not None and there is not None
    assert here != there  # exactly one side of a line is the bad state
    rising = op in (">", ">=")
    assert here == (rising if metric in _HIGH_IS_BAD else not rising)


@settings(deadline=None)  # the first import loads the parser; no bound is stated here
@given(
    metric=st.sampled_from(_HIGH_IS_BAD + _LOW_IS_BAD),
    op=st.sampled_from([">", "<"]),
    number=st.integers(min_value=1, max_value=99),
    heading=st.sampled_from(
        ["Automatic rollback triggers", "Rollback criteria", "Abort conditions", "Halt rules"]
    ),
)
def test_no_imported_trigger_fires_on_the_good_side(
    metric: str, op: str, number: int, heading: str
) -> None:
    """Whatever a failure list says, a trigger's failure condition is the bad side of its
    line; a good-side item becomes a question for a human, never a trigger."""
    doc = (
        f"# R\n\n## Phase 1: Go\n\n```bash\ntrue\n```\n\n## {heading}\n- {metric} {op} {number}%\n"
    )
    data = import_markdown(doc, "doc.md").data
    bad = polarity.describes_failure(metric, op)
    triggers = data.get("triggers", [])
    asks = [s for p in data["phases"] for s in p.get("steps", []) if "needs_binding" in s]
    if bad:
        [trigger] = triggers
        assert trigger["check"]["failure"].startswith(f"value {op} ")
        assert asks == []
    else:
        assert triggers == []
        [ask] = asks
        assert ask["pause"] == "approve" and metric in ask["name"]


def _imported(text: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(text).lstrip("\n"), "doc.md").data


def test_actions_follow_the_words_of_the_document() -> None:
    data = _imported("""
        # Release
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        - Rollback if error rate > 1%
        - If p99 latency exceeds 2s, pause the rollout
        - Crash rate > 0.5% → evaluate within 2 hours
        ### Halt rules
        - Queue depth > 1000
        ## Rollback decision (evaluate within 2 hours)
        - Conversion drop > 10%
        ## Selection criteria
        - Error budget remaining > 50%
        ## Eligibility
        - Accounts older than 30 days
    """)
    actions = {t["name"]: t["action"] for t in data["triggers"]}
    assert actions == {
        "error-rate": "rollback",
        "p99-latency": "pause",
        "crash-rate": "alert",  # "evaluate within 2 hours" is not an immediate rollback
        "queue-depth": "pause",  # a halt stops the rollout; it does not undo it
        "conversion-drop": "alert",
    }


def test_a_rollback_procedure_is_not_a_list_of_conditions() -> None:
    data = _imported("""
        # Release
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ### Rollback Steps
        1. Restore the archive
        2. Revert config changes
    """)
    assert data.get("triggers", []) == []


def test_a_recovery_runbooks_trigger_conditions_say_when_to_start_it() -> None:
    """Background triggers in a DR runbook would undo the failover while the primary is
    down: its "trigger conditions" are one manual gate a person confirms before the steps."""
    data = _imported("""
        # Disaster Recovery Runbook
        ## DR Trigger Conditions
        DR failover is automatically triggered when:
        - Health score exceeds 11
        - Multiple critical services are down
        ## Step 1: Fail over
        ```bash
        ./failover.sh
        ```
    """)
    assert data.get("triggers", []) == []
    first = data["phases"][0]
    assert first["gates"] == [
        {
            "name": "when to start",
            "manual": "Run this only when one of these holds: Health score exceeds 11; "
            "Multiple critical services are down",
        }
    ]
    assert data["phases"][1]["needs"] == [first["id"]]


def test_a_heading_and_the_next_line_are_not_read_as_one_condition() -> None:
    assert not polarity.failure_context("Perform a minor rollback\nIf you use an old version:")
    assert polarity.failure_context("Rollback if")
    assert polarity.failure_context("When to roll back")
    assert not polarity.failure_context("Pilot customer selection criteria")
    assert not polarity.failure_context("Go/No-Go criteria")


def test_a_table_names_the_action_of_each_row() -> None:
    data = _imported("""
        # Release
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ## Rollback decision matrix
        | Condition | Action |
        |---|---|
        | Error rate > 5% | Automatic rollback |
        | p95 latency > 800ms | Page on-call, consider rollback |
        | Success rate < 99% | Halt the rollout |
        | Availability > 99.9% | Roll back |
        ## Monitoring
        | Metric | Target | Threshold | Action |
        |---|---|---|---|
        | CPU | < 60% | > 85% | Alert |
        ## Steps
        | Step | Action |
        |---|---|
        | 1 | Stop the old server |
    """)
    found = {t["name"]: (t["check"]["failure"], t["action"]) for t in data["triggers"]}
    assert found == {
        "error-rate": ("value > 0.05", "rollback"),
        "p95-latency": ("value > 0.8", "alert"),  # "consider rollback" is a person's call
        "success-rate": ("value < 0.99", "pause"),
        "cpu": ("value > 0.85", "alert"),  # the Target column is the good state, skipped
    }
    asks = [s["name"] for p in data["phases"] for s in p.get("steps", []) if "needs_binding" in s]
    assert asks == ['Decide: is "Availability > 99.9%" a failure condition?']


def test_pseudo_code_under_a_trigger_heading_states_its_conditions() -> None:
    data = _imported("""
        # Release
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ## Rollback Procedures
        ### Auto-Rollback Triggers
        ```bash
        if error_rate > 5% or latency_p99 > 2000ms:
          trigger_automatic_rollback()
          notify_devops_team()
        ```
    """)
    found = {t["name"]: (t["check"]["failure"], t["action"]) for t in data["triggers"]}
    assert found == {
        "error-rate": ("value > 0.05", "rollback"),
        "latency-p99": ("value > 2.0", "rollback"),
    }
    # the pseudo-code itself never runs
    steps = [s.get("run", "") for p in data["phases"] for s in p.get("steps", [])]
    assert not any("trigger_automatic_rollback" in s for s in steps)
