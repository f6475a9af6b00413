"""Traffic ramps of imported Markdown, run for real (issue 11 §9; cases 10 and 11).

Each test imports a document with the real CLI, binds what a document never names (the router:
a command that records every weight it is asked for in ``$RUN_DIR/weights``; a trigger's
metric: a command that prints ``$RUN_DIR/error_rate``), runs the plan, and checks what the
router was asked for, where the run waits for a person and what the journal says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CLI
from tests.markdown.cases_harness import Imported, Ran, import_case

_ROUTER = 'echo "$WEIGHT" >> "$RUN_DIR/weights"'
# A metric whose value the test sets: 0 until $RUN_DIR/error_rate says otherwise.
_METRIC = 'cat "$RUN_DIR/error_rate" 2>/dev/null || echo 0'


def _bind(case: Imported, every: str | None = None) -> dict[str, Any]:
    """What an author does after import: name the router and each trigger's metric."""
    data = yaml.safe_load(case.plan_path.read_text(encoding="utf-8"))
    assert "needs_binding" in data["traffic"]
    del data["traffic"]["needs_binding"]
    data["traffic"]["router"] = {"command": _ROUTER}
    for trigger in data.get("triggers", []):
        del trigger["needs_binding"]
        trigger["check"]["metric"] = _METRIC
        trigger["check"]["provider"] = {"command": {}}
        if every:
            trigger["every"] = every
    case.plan_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return data


def _weights(ran: Ran) -> list[int]:
    """The weights the router was asked for, in order (a resume re-applies the current one)."""
    path = Path(ran.status["vars"]["RUN_DIR"]) / "weights"
    asked = [int(w) for w in path.read_text().split()] if path.exists() else []
    return [w for n, w in enumerate(asked) if n == 0 or asked[n - 1] != w]


def _steps(case: Imported) -> list[dict[str, Any]]:
    return [s for p in case.plan["phases"] for s in p.get("steps", [])]


def test_10_metadata_is_no_ramp_and_day_headings_ramp_with_a_persons_proceed(cli: CLI) -> None:
    case = import_case(cli, "10")
    assert case.returncode == 0, case.stderr
    steps = _steps(case)
    # "Timeline: 4 weeks from 0% → 100%" is metadata: never a 100 % step
    assert [s["set_weight"] for s in steps if "set_weight" in s] == [1, 5]
    assert [s["name"] for s in steps] == [
        "Day 5: 1% canary",
        "proceed to Day 8: 5% — Health gate: error rate < 0.5% — the document waits 3 days first",
        "Day 8: 5%",
    ]
    assert steps[1]["pause"] == "approve"  # a run cannot sleep three days: a person proceeds
    # the two weights stay in their weeks' phases, the wait before the second one's weight
    assert [(p["id"], len(p["steps"])) for p in case.plan["phases"]] == [
        ("week-1-beta", 1),
        ("week-2-expansion", 2),
    ]
    # "Rollback if error rate > 1%" is the failure condition: a rollback trigger of week 2
    [trigger] = case.plan["triggers"]
    assert trigger["check"]["failure"] == "value > 0.01"
    assert (trigger["action"], trigger["during"]) == ("rollback", ["week-2-expansion"])
    _bind(case)
    first = case.run()
    assert first.returncode == 4, first.stderr
    assert _weights(first) == [1]
    [waiting] = first.awaiting()
    assert "error rate < 0.5%" in waiting["name"]
    done = case.approve(first)
    assert done.returncode == 0, done.stderr
    assert _weights(done) == [1, 5]
    assert done.status["run"]["status"] == "succeeded"


def test_10_the_rollback_trigger_fires_only_on_a_bad_error_rate(cli: CLI) -> None:
    case = import_case(cli, "10")
    data = _bind(case, every="1s")
    # hold the 5 % weight long enough for the trigger to be evaluated a few times
    data["phases"][1]["steps"][-1]["bake"] = "4s"
    case.plan_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    healthy = case.run()
    run_dir = Path(healthy.status["vars"]["RUN_DIR"])
    (run_dir / "error_rate").write_text("0.004\n")  # below 1 %: a healthy system
    healthy = case.approve(healthy)
    assert healthy.returncode == 0, healthy.stderr
    assert _weights(healthy) == [1, 5]

    bad = case.run()
    run_dir = Path(bad.status["vars"]["RUN_DIR"])
    (run_dir / "error_rate").write_text("0.02\n")  # above 1 %: roll back
    bad = case.approve(bad)
    assert bad.returncode == 1, bad.stderr
    assert bad.status["run"]["status"] == "rolled_back"
    assert _weights(bad)[:2] == [1, 5] and _weights(bad)[-1] == 0


def test_11_ramp_rows_wait_for_each_proceed_decision(cli: CLI) -> None:
    case = import_case(cli, "11")
    assert case.returncode == 0, case.stderr
    steps = _steps(case)
    assert [s["name"] for s in steps if "set_weight" in s] == [
        "Day 1: 5%",
        "Day 3: 25%",
        "Day 10: 100%",
    ]
    pauses = [s for s in steps if "pause" in s]
    assert [(p["name"], p["pause"]) for p in pauses] == [
        (
            "proceed to Day 3: 25% — Proceed if < 0.5% crashes — the document waits 2 days first",
            "approve",
        ),
        (
            "proceed to Day 10: 100% — Proceed if < 0.75% crashes — "
            "the document waits 7 days first",
            "approve",
        ),
    ]
    # each pause sits right before the weight it gates
    kinds = ["pause" if "pause" in s else s["set_weight"] for s in steps]
    assert kinds == [5, "pause", 25, "pause", 100]
    _bind(case)
    first = case.run()
    assert first.returncode == 4, first.stderr  # the decision before 25 % is a person's
    assert _weights(first) == [5]
    [waiting] = first.awaiting()
    assert "Proceed if < 0.5% crashes" in waiting["name"]
    second = case.approve(first)
    assert second.returncode == 4, second.stderr
    assert _weights(second) == [5, 25]
    done = case.approve(second)
    assert done.returncode == 0, done.stderr
    assert _weights(done) == [5, 25, 100]


def test_a_wait_comes_only_between_rows_the_document_spaces_apart(cli: CLI) -> None:
    """Days between rows become a person's proceed; rows on the same day follow directly."""
    doc = (
        "# Rollout\n\n## Phase 1: Canary\n\n"
        "| Day | Traffic % |\n|---|---|\n| Day 1 | 10% |\n| Day 2 | 50% |\n| Day 2 | 100% |\n"
    )
    case = import_case(cli, "ramp.md", text=doc)
    steps = _steps(case)
    kinds = ["pause" if "pause" in s else s["set_weight"] for s in steps]
    # Day 1 -> Day 2 is a day: a proceed; Day 2 -> Day 2 states no wait: none
    assert kinds == [10, "pause", 50, 100]
    assert steps[1]["pause"] == "approve"
