"""The labelled checker's conditional rollback ("if X fails, roll back with Y", ``if_fails``):
Y must run on the rollback X's failure starts, and never forward."""

from __future__ import annotations

import pytest

from tests.markdown import labelled_check as lc

X, Y = "./upgrade.sh", "./undo-upgrade.sh"
EXP = {"kind": "rollback", "cmd": Y, "if_fails": X, "line": 1, "why": "if it fails"}


def _judge(*items: lc.Item, ranks: dict[str, int] | None = None) -> lc.Outcome:
    imported = lc.Imported("doc.md", items=list(items), phase_rank=ranks or {"one": 0, "two": 1})
    (outcome,) = lc.evaluate(imported, {"expectations": [EXP]})
    return outcome


def _x(phase: str = "one", order: int = 5, when: str | None = None) -> lc.Item:
    return lc.Item("step", phase, order, X, "", when)


@pytest.mark.parametrize(
    ("y", "met"),
    [
        (lc.Item("rollback", "one", 0, Y, ""), True),  # X's phase rolls back when X fails
        (lc.Item("rollback", "two", 0, Y, ""), False),  # a later phase never started
        (lc.Item("undo", "one", 5, Y, ""), False),  # X's own undo: X did not complete
        (lc.Item("undo", "one", 3, Y, ""), True),  # a step completed before X
        (lc.Item("rollback", "one", 0, Y, "", "vars.D == 'a'"), False),  # X ran unchosen
        (lc.Item("step", "one", 9, Y, ""), False),  # forward
    ],
)
def test_a_conditional_rollback_runs_when_its_step_fails(y: lc.Item, met: bool) -> None:
    outcome = _judge(_x(), y)
    assert outcome.met is met, outcome.detail
    assert outcome.safety_violation is not met


def test_a_rollback_bound_to_the_option_x_ran_under_counts() -> None:
    when = "vars.D == 'a'"
    y = lc.Item("rollback", "one", 0, Y, "", when)
    assert _judge(_x(when=f"({when}) && (vars.E == 'x')"), y).met
    assert _judge(_x(when=when), y).met
