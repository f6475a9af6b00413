"""The change-window fit's p90s are learned again when the plan's history changes (issue 13
§1/§4: a long run judges a later phase by fresh estimates). Pure: a fake history reader, a
run state advanced by events; nothing reads a store or sleeps."""

from __future__ import annotations

from typing import Any

from phasegate.engine.phase_p90 import PhaseP90s, ended_phases, p90s_of
from phasegate.estimate import RunDurations
from phasegate.plan.model import Plan
from phasegate.run.events import PhaseFinished, PhaseStarted
from phasegate.run.state import apply
from tests.windows.test_fit import fresh_state

WINDOWS = {"timezone": "UTC", "allow": [{"days": ["mon", "tue", "wed", "thu", "fri"]}]}


def _plan(windows: dict[str, Any] | None = WINDOWS) -> Plan:
    return Plan.model_validate(
        {
            "version": 1,
            "name": "p",
            **({"windows": windows} if windows else {}),
            "phases": [
                {"id": "one", "steps": [{"id": "s", "run": "x"}]},
                {"id": "two", "needs": ["one"], "steps": [{"id": "t", "run": "x"}]},
            ],
        }
    )


def _runs(n: int, seconds: float, start: int = 0) -> list[RunDurations]:
    return [
        RunDurations(
            f"r{i}", "p", "succeeded", float(i), {}, phases={"one": seconds, "two": seconds}
        )
        for i in range(start, start + n)
    ]


class FakeHistory:
    def __init__(self, runs: list[RunDurations] | None) -> None:
        self.runs = runs
        self.reads = 0

    def __call__(self) -> list[RunDurations] | None:
        self.reads += 1
        return None if self.runs is None else list(self.runs)


def test_p90s_are_learned_again_only_when_a_phase_ends_and_the_history_changed() -> None:
    plan = _plan()
    history = FakeHistory(_runs(20, 100.0))
    state = fresh_state(plan)
    p90s = PhaseP90s(plan, history, ended_phases(state))  # as the runner makes it
    first = p90s.values
    assert first == p90s_of(plan, _runs(20, 100.0)) and (history.reads, p90s.fits) == (1, 1)
    # The engine asks every loop: the same stamp reads nothing.
    for _ in range(5):
        assert p90s.at(ended_phases(state)) == first
    assert history.reads == 1
    # Another run finished meanwhile, much slower: nothing read until a phase of ours ends.
    history.runs = _runs(20, 100.0) + _runs(20, 1000.0, start=20)
    apply(state, PhaseStarted(phase="one"), 3.0)
    assert p90s.at(ended_phases(state)) == first and history.reads == 1
    apply(state, PhaseFinished(phase="one", status="succeeded"), 4.0)
    fresh = p90s.at(ended_phases(state))
    assert history.reads == 2 and p90s.fits == 2
    assert fresh == p90s_of(plan, history.runs)
    assert fresh is not None and first is not None and fresh["two"] > first["two"] * 2
    # A phase end with the same history reads it, but fits nothing again.
    apply(state, PhaseStarted(phase="two"), 5.0)
    apply(state, PhaseFinished(phase="two", status="succeeded"), 6.0)
    assert p90s.at(ended_phases(state)) == fresh
    assert (history.reads, p90s.fits) == (3, 2)


def test_an_unreadable_history_keeps_what_was_learned_and_a_plan_without_windows_reads_none() -> (
    None
):
    plan = _plan()
    history = FakeHistory(_runs(20, 100.0))
    p90s = PhaseP90s(plan, history)
    learned = p90s.values
    history.runs = None  # the store cannot be read now
    assert p90s.at(frozenset({"one"})) == learned and p90s.fits == 1
    bare = FakeHistory(_runs(20, 100.0))
    plain = PhaseP90s(_plan(None), bare)
    assert plain.values is None and plain.at(frozenset({"one"})) is None and bare.reads == 0
