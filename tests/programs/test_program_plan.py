"""The program plan model: `run_plan` phases, their located validation errors, the loader's
expansion into a child step and a child rollback, `needs_mode: any` in the run's fold."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan
from phasegate.run.events import PhaseFinished, PhaseStarted, RunCreated, RunStarted
from phasegate.run.state import NEEDS_ANY, RunState, apply


def _plan(tmp_path: Path, body: str) -> Path:
    (tmp_path / "child.yaml").write_text(
        "version: 1\nname: child\nphases:\n  - id: p\n    steps: [{run: 'true'}]\n"
    )
    path = tmp_path / "program.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def _problems(path: Path) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_program_phase_with_steps_is_a_located_error(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        """
        version: 1
        name: prog
        phases:
          - id: a
            run_plan: child.yaml
          - id: b
            run_plan: child.yaml
            steps:
              - run: echo direct build work
        """,
    )
    [(line, column, message)] = _problems(path)
    assert line == 6 and column is not None  # the phase `b` mapping
    assert "no commands of its own" in message and "`steps`" in message


def test_missing_child_plan_and_bad_rollback_children_are_located(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        """
        version: 1
        name: prog
        rollback_children: [a, plain]
        phases:
          - id: a
            run_plan: nowhere/child.yaml
          - id: plain
            steps: [{run: 'true'}]
        """,
    )
    found = _problems(path)
    assert [line for line, _, _ in found] == [3, 6]
    assert "is not a program phase" in found[0][2]
    assert "child plan 'nowhere/child.yaml' not found" in found[1][2]


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("soak", "30s", "`soak` belong to a program phase"),
        ("vars", "{A: b}", "`vars` belong to a program phase"),
        ("ready", "{checks: [{command: 'true'}]}", "`ready` belong to a program phase"),
    ],
)
def test_program_keys_need_run_plan(tmp_path: Path, key: str, value: str, says: str) -> None:
    path = _plan(
        tmp_path,
        f"""
        version: 1
        name: prog
        phases:
          - id: a
            steps: [{{run: 'true'}}]
            {key}: {value}
        """,
    )
    [(line, _, message)] = _problems(path)
    assert line == 4 and says in message


def test_readiness_field_paths_start_at_doc(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        """
        version: 1
        name: prog
        phases:
          - id: a
            run_plan: child.yaml
            ready:
              evidence: {file: state.yaml}
              score: dor.score
        """,
    )
    [(line, _, message)] = _problems(path)
    assert line == 7 and "starts at `doc`" in message


def test_loader_expands_program_phase_into_child_step_and_rollback(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        """
        version: 1
        name: prog
        rollback_children: [b]
        phases:
          - id: a
            run_plan: child.yaml
          - id: b
            needs: [a]
            soak: 2s
            run_plan: child.yaml
            ready:
              evidence: {file: state.yaml}
              verdict: doc.dor.status
              checks: [{command: 'true'}]
        """,
    )
    plan = load_plan(path).plan
    a, b = plan.phases
    assert [s.id for s in a.steps] == ["child"] and a.steps[0].idempotent
    assert a.rollback == []  # narrowed away by rollback_children
    assert [s.id for s in b.steps] == ["soak", "child"]
    assert b.steps[0].pause is not None and b.steps[0].pause.duration == 2
    assert len(b.rollback) == 1 and b.rollback[0].idempotent
    assert b.ready is not None and b.ready.checks[0].kind == "command"


def _fold(needs: dict[str, tuple[str, ...]]) -> RunState:
    state = RunState(run_id="r")
    apply(state, RunCreated(phases=("a", "b", "c"), needs=needs), 1.0)
    apply(state, RunStarted(), 1.0)
    return state


def test_needs_mode_any_readies_on_the_first_success_only_once() -> None:
    state = _fold({"c": (NEEDS_ANY, "a", "b")})
    assert state.ready == ["a", "b"]
    for phase in ("a", "b"):
        apply(state, PhaseStarted(phase=phase), 2.0)
    apply(state, PhaseFinished(phase="b", status="succeeded"), 3.0)
    assert state.ready == ["c"]
    apply(state, PhaseStarted(phase="c"), 4.0)
    apply(state, PhaseFinished(phase="a", status="succeeded"), 5.0)
    assert state.ready == []  # not readied a second time


def test_needs_mode_all_waits_for_every_need() -> None:
    state = _fold({"c": ("a", "b")})
    for phase in ("a", "b"):
        apply(state, PhaseStarted(phase=phase), 2.0)
    apply(state, PhaseFinished(phase="b", status="succeeded"), 3.0)
    assert state.ready == []
    apply(state, PhaseFinished(phase="a", status="succeeded"), 4.0)
    assert state.ready == ["c"]


def test_a_circle_of_run_plans_is_a_located_error(tmp_path: Path) -> None:
    """A program whose child runs the program again (itself, or through another child) would
    start one level after another: refused before anything runs, the circle named."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "middle.yaml").write_text(
        "version: 1\nname: middle\nphases:\n  - id: m\n    run_plan: ../program.yaml\n"
    )
    path = _plan(
        tmp_path,
        """
        version: 1
        name: prog
        phases:
          - id: fine
            run_plan: child.yaml
          - id: loops
            needs: [fine]
            run_plan: sub/middle.yaml
        """,
    )
    [(line, column, message)] = _problems(path)
    assert (line, column) == (8, 15)
    assert "program.yaml -> middle.yaml -> program.yaml" in message
    itself = tmp_path / "itself.yaml"
    itself.write_text("version: 1\nname: itself\nphases:\n  - id: a\n    run_plan: itself.yaml\n")
    [(_, _, message)] = _problems(itself)
    assert "itself.yaml -> itself.yaml" in message
    # children that share a grandchild are no circle
    (tmp_path / "left.yaml").write_text(
        "version: 1\nname: left\nphases:\n  - id: l\n    run_plan: child.yaml\n"
    )
    (tmp_path / "right.yaml").write_text(
        "version: 1\nname: right\nphases:\n  - id: r\n    run_plan: child.yaml\n"
    )
    diamond = tmp_path / "diamond.yaml"
    diamond.write_text(
        "version: 1\nname: diamond\nphases:\n  - id: a\n    run_plan: left.yaml\n"
        "  - id: b\n    run_plan: right.yaml\n"
    )
    assert load_plan(diamond).plan.name == "diamond"
