"""``lane:`` on a phase and ``priority:`` in the plan model: located errors for a program phase
with a lane, a bad lane name, a mistyped key; and the values a valid plan carries."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "child.yaml").write_text(
        "version: 1\nname: child\nphases:\n  - id: p\n    steps: [{run: 'true'}]\n"
    )
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def _problems(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return [(p.line, p.message) for p in caught.value.problems]


def test_a_phase_lane_and_the_plan_priority_are_carried(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        name: laned
        lane: Code-API
        priority: 5
        phases:
          - id: prep
            steps: [{run: "true"}]
          - id: deploy
            lane: Data-Schema
            steps: [{run: "true"}]
        """,
    )
    plan = load_plan(path).plan
    assert (plan.lane, plan.priority) == ("Code-API", 5)
    assert [(p.id, p.lane) for p in plan.phases] == [("prep", None), ("deploy", "Data-Schema")]


def test_a_program_phase_with_a_lane_is_a_located_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        name: prog
        phases:
          - id: child
            run_plan: child.yaml
            lane: Code-API
        """,
    )
    [(line, message)] = _problems(path)
    assert line == 4  # the phase's mapping
    assert "a program phase takes no `lane:`" in message
    assert "`lane: Code-API` at the top of the child plan" in message


@pytest.mark.parametrize(
    ("phase_line", "expected_line", "words"),
    [
        ("lane: 'bad name'", 6, "does not match the pattern"),
        ("lanes: deploy", 6, "lanes"),
    ],
)
def test_a_bad_phase_lane_or_a_mistyped_key_is_located(
    tmp_path: Path, phase_line: str, expected_line: int, words: str
) -> None:
    path = _write(
        tmp_path,
        f"""
        version: 1
        name: laned
        phases:
          - id: deploy
            steps: [{{run: "true"}}]
            {phase_line}
        """,
    )
    [(line, message)] = _problems(path)
    assert line == expected_line and words in message


def test_a_priority_out_of_range_is_located(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        name: laned
        priority: 101
        phases:
          - id: deploy
            steps: [{run: "true"}]
        """,
    )
    [(line, message)] = _problems(path)
    assert line == 3 and "100" in message
