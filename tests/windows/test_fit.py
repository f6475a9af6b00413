"""A phase whose estimated p90 finish falls after the window closes waits for the next window
long enough, or a break-glass approval (issue 13 §1). Pure functions over a fake clock: the
instant is given, nothing sleeps. Property: a phase never starts (without an approval) when
now + p90 passes the close; the opening a held phase waits for is the first one it fits in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.engine.commands import EndWait, StartPhase, Wait
from phasegate.engine.decide import decide
from phasegate.engine.phase_p90 import p90s_of
from phasegate.engine.windowing import admit, decide_waiting, preview, window_key
from phasegate.estimate import RunDurations
from phasegate.plan.windows import Windows
from phasegate.run.state import RunState, apply
from phasegate.windows import fit, is_open, next_close, next_fit, next_open
from tests.engine.test_windows_decide import SEED, make_plan
from tests.windows.test_properties import instants, risk, spec

NY = "America/New_York"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def fresh_state(plan: Any) -> RunState:
    """A run created and started, nothing done: its first phases ready."""
    from phasegate.run.events import RunCreated, RunStarted

    state = RunState(run_id="r1")
    needs = {p.id: tuple(p.needs) for p in plan.phases}
    apply(state, RunCreated(phases=tuple(needs), needs=needs), 1.0)
    apply(state, RunStarted(), 2.0)
    return state


def test_fit_is_open_and_ending_before_the_close() -> None:
    w = Windows.model_validate(SEED)
    monday_1540 = _at("2026-12-07T15:40:00-05:00")
    closes = _at("2026-12-07T16:00:00-05:00")
    ok = fit(w, monday_1540, "medium", 20 * 60)
    assert ok.open and ok.closes == closes and ok.fits  # ends exactly at the close: fits
    late = fit(w, monday_1540, "medium", 20 * 60 + 1)
    assert late.open and not late.fits
    # Tuesday 09:00 opens 30 minutes before the stand-up: too short for 31 min, the next
    # opening (09:45, until 16:00) fits it.
    assert next_fit(w, monday_1540, "medium", 20 * 60 + 1) == _at("2026-12-08T09:00:00-05:00")
    assert next_fit(w, monday_1540, "medium", 31 * 60) == _at("2026-12-08T09:45:00-05:00")
    # Longer than any weekday window, and a medium change may not run on weekends: no fit.
    assert next_fit(w, monday_1540, "medium", 8 * 3600) is None
    # A low-risk change fits over a whole weekend (Sat 00:00 to Mon 09:00 minus nothing).
    assert next_fit(w, monday_1540, "low", 8 * 3600) == _at("2026-12-12T00:00:00-05:00")


def test_a_phase_too_long_for_the_open_window_waits_naming_its_p90_and_the_close() -> None:
    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    state = fresh_state(plan)
    now = _at("2026-12-07T15:40:00-05:00").timestamp()
    # 20 minutes fit before 16:00: it starts.
    assert decide(plan, state, (), now, {"deploy": 1200.0}) == [StartPhase("deploy")]
    # 31 minutes do not: the run waits for Tuesday 09:45 (09:00-09:30 is too short).
    [wait] = decide(plan, state, (), now, {"deploy": 1860.0})
    assert isinstance(wait, Wait)
    assert wait.phase == "deploy" and wait.admission
    assert wait.next_open == _at("2026-12-08T09:45:00-05:00").timestamp()
    assert wait.rule is None  # at 16:00 no allow rule matches a medium change
    assert wait.why == (
        "its p90 duration 31m00s would end Mon 2026-12-07 16:11 EST, after the window closes "
        "Mon 2026-12-07 16:00 EST (no allow rule matches a medium-risk change)"
    )
    # Without an estimate only the opening is asked (as before).
    assert decide(plan, state, (), now, {}) == [StartPhase("deploy")]


def test_the_stand_up_closing_the_window_is_named() -> None:
    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    starts, [hold] = admit(
        plan,
        fresh_state(plan),
        ["deploy"],
        1,
        _at("2026-12-07T09:20:00-05:00").timestamp(),
        {"deploy": 15 * 60.0},
    )
    assert starts == []
    assert (hold.verdict.rule, hold.verdict.reason) == ("deny[0]", "stand-up")
    assert hold.fit is not None and hold.fit.closes == _at("2026-12-07T09:30:00-05:00")


def test_an_approval_starts_a_phase_that_does_not_fit() -> None:
    from phasegate.run.events import ApprovalGranted

    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    state = fresh_state(plan)
    now = _at("2026-12-07T15:40:00-05:00").timestamp()
    [wait] = decide(plan, state, (), now, {"deploy": 3600.0})
    assert isinstance(wait, Wait)
    apply(state, ApprovalGranted(key=window_key("deploy"), by="pm@host"), now)
    assert decide(plan, state, (), now, {"deploy": 3600.0}) == [StartPhase("deploy")]


def test_a_waiting_run_ends_its_wait_only_when_a_window_is_long_enough() -> None:
    from phasegate.run.events import RunWaiting

    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    state = fresh_state(plan)
    apply(state, RunWaiting(phase="deploy", risk="medium", why="x"), 3.0)
    assert state.status == "waiting"
    p90 = {"deploy": 31 * 60.0}
    tuesday = "2026-12-08T{}:00-05:00"
    # 09:00 is open, but the stand-up closes it after 30 minutes: still waiting.
    assert decide_waiting(plan, state, _at(tuesday.format("09:00")).timestamp(), p90) == []
    # Without the estimate it would have ended at once (the old behaviour).
    assert decide_waiting(plan, state, _at(tuesday.format("09:00")).timestamp()) == [
        EndWait("opened")
    ]
    assert decide_waiting(plan, state, _at(tuesday.format("09:45")).timestamp(), p90) == [
        EndWait("opened")
    ]


def test_the_preview_places_each_phase_after_its_needs_p90() -> None:
    plan = make_plan(
        SEED,
        [{"id": "a", "risk": "medium"}, {"id": "b", "risk": "medium", "needs": ["a"]}],
    )
    at = _at("2026-12-07T14:00:00-05:00")
    a, b = preview(plan, at, {"a": 3600.0, "b": 5400.0})
    assert a.starts_at == at and a.verdict.open
    assert a.closes_at == _at("2026-12-07T16:00:00-05:00")
    # b is ready at 15:00 (a's p90 finish); 90 minutes do not fit before 16:00: Tuesday 09:45.
    assert b.ready_at == _at("2026-12-07T15:00:00-05:00")
    assert not b.verdict.open and "p90 duration 1h30m" in b.verdict.why
    assert b.starts_at == _at("2026-12-08T09:45:00-05:00")
    assert b.as_dict()["p90"] == 5400.0


def test_p90s_come_from_hints_and_history_and_leave_out_phases_without_a_basis() -> None:
    from phasegate.plan.model import Plan

    plan = Plan.model_validate(
        {
            "version": 1,
            "name": "p",
            "phases": [
                {"id": "hinted", "estimate": {"p50": "10m", "p90": "20m"}, "steps": [{"run": "x"}]},
                {"id": "learned", "steps": [{"id": "s", "run": "x"}]},
                {"id": "unknown", "steps": [{"run": "x"}]},
            ],
        }
    )
    assert p90s_of(plan, []) == {"hinted": 1200.0}
    history = [
        RunDurations(f"r{i}", "p", "succeeded", float(i), {}, phases={"learned": 100.0 + i})
        for i in range(20)
    ]
    found = p90s_of(plan, history)
    assert set(found) == {"hinted", "learned"}
    assert 110.0 < found["learned"] < 140.0  # around the observed 100-119 s, a little above


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec,
    instants(),
    st.lists(st.tuples(risk, st.integers(0, 12 * 3600)), min_size=1, max_size=4),
    st.integers(1, 4),
)
def test_a_phase_never_starts_when_now_plus_p90_passes_the_close(
    raw: dict[str, Any], at: datetime, phases: list[tuple[Any, int]], slots: int
) -> None:
    windows = Windows.model_validate(raw)
    plan = make_plan(raw, [{"id": f"p{i}", "risk": r} for i, (r, _) in enumerate(phases)])
    p90 = {f"p{i}": float(s) for i, (_, s) in enumerate(phases)}
    ready = [f"p{i}" for i in range(len(phases))]
    starting, held = admit(plan, fresh_state(plan), ready, slots, at.timestamp(), p90)
    at = at.astimezone(UTC)
    assert len(starting) <= slots
    for phase_id in starting:
        r = plan.phase(phase_id).risk
        assert is_open(windows, at, r).open
        close = next_close(windows, at, r)
        assert close is None or at + timedelta(seconds=p90[phase_id]) <= close
    for hold in held:
        assert hold.phase is not None and not hold.verdict.open
        r = plan.phase(hold.phase).risk
        start = next_fit(windows, at, r, p90[hold.phase])
        if start is None:
            continue
        # The opening waited for fits, and no earlier opening does.
        assert fit(windows, start, r, p90[hold.phase]).fits
        opening = next_open(windows, at, r)
        assert opening is not None and opening <= start
        if opening < start:
            assert not fit(windows, opening, r, p90[hold.phase]).fits
