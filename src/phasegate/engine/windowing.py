"""Change windows in the engine's decisions (issue 13 §1): which phases may start now, and
what the run waits for when none may.

Pure, like ``decide``: the instant is given (the runner passes its injected clock), so the
tests decide at any time without sleeping. The window is asked before each phase starts, with
the phase's ``risk:``; a phase whose window is closed is held, and when nothing else is left to
do the run *waits* (``run.waiting``: the rule that closed it and the next opening), never
fails. A break-glass approval (``phasegate approve RUN --break-glass``, the key
``window:PHASE``) lets exactly that phase start. A rollback ignores windows unless the plan
says ``windows: {rollback: respect}``; then it waits before its first action (key
``window:@rollback``). Semantics: docs/windows.md.

A phase must also *fit*: given its estimated p90 duration (``p90``, by phase id: the runner's
estimate from the plan's history, its ``estimate:`` hints as prior; engine/phase_p90.py), a
phase whose p90 finish falls after the open window closes is held like one in a closed window,
and the run waits for the next opening long enough for it (``windows.next_fit``), or a
break-glass approval of ``window:PHASE``. Without a p90 (no estimate given) only the opening
is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from phasegate.durations import format_duration
from phasegate.engine.commands import EndWait, Wait
from phasegate.plan.model import Plan
from phasegate.plan.windows import RISKS, Risk, Windows
from phasegate.run.state import RunState
from phasegate.windows import (
    UNDECLARED_RISK,
    Fit,
    Verdict,
    is_open,
    next_close,
    next_fit,
    next_open,
)

WINDOW_KEY = "window:"
# The rollback's key, ``window:@rollback``: no phase id starts with "@" (options.Identifier).
ROLLBACK = "@rollback"


def window_key(phase: str | None) -> str:
    """The approval key of a break-glass start of ``phase`` (None: the rollback)."""
    return WINDOW_KEY + (phase if phase is not None else ROLLBACK)


def instant(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


@dataclass(frozen=True, slots=True)
class Hold:
    """A phase (None: the rollback) that may not start now, and why."""

    phase: str | None
    verdict: Verdict
    # Held although open: its p90 finish falls after the close (None: held by a closed window).
    fit: Fit | None = None


class Verdicts:
    """``is_open`` per risk at one instant: a verdict depends on the risk and the time only, so
    a plan with thousands of ready phases costs at most four evaluations per decision."""

    def __init__(self, windows: Windows, at: datetime) -> None:
        self.windows, self.at = windows, at
        self._by_risk: dict[Risk, Verdict] = {}
        self._closes: dict[Risk, datetime | None] = {}

    def __call__(self, risk: Risk | None) -> Verdict:
        risk = risk or UNDECLARED_RISK
        found = self._by_risk.get(risk)
        if found is None:
            found = self._by_risk[risk] = is_open(self.windows, self.at, risk)
        return found

    def fit(self, risk: Risk | None, seconds: float) -> Fit:
        """Whether a phase lasting ``seconds`` started now ends before its open window closes
        (one ``next_close`` per risk, like the verdicts)."""
        risk = risk or UNDECLARED_RISK
        if not self(risk).open:
            return Fit(self.at, seconds, False, None)
        if risk not in self._closes:
            self._closes[risk] = next_close(self.windows, self.at, risk)
        return Fit(self.at, seconds, True, self._closes[risk])


_RISKS: dict[int, tuple[Plan, dict[str, Risk | None]]] = {}


def risks(plan: Plan) -> dict[str, Risk | None]:
    """Each phase's declared risk, by id: computed once per plan (``plan.phase`` is a scan,
    and a waiting run asks for every held phase at each poll)."""
    cached = _RISKS.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    found = {phase.id: phase.risk for phase in plan.phases}
    if len(_RISKS) > 32:
        _RISKS.clear()
    _RISKS[id(plan)] = (plan, found)
    return found


def approved(state: RunState, phase: str | None) -> str | None:
    """Who approved a break-glass start of ``phase``, if anybody."""
    who = state.approvals.get(window_key(phase))
    return who[-1] if who else None


def admit(
    plan: Plan,
    state: RunState,
    ready: Iterable[str],
    slots: int,
    now: float | None,
    p90: Mapping[str, float] | None = None,
) -> tuple[list[str], list[Hold]]:
    """The ready phases that may start now (at most ``slots``, in plan order) and those a
    closed window holds, or one closing before their ``p90`` finish. A held phase does not
    take a slot: a later, open one may start."""
    starting: list[str] = []
    held: list[Hold] = []
    windows = plan.windows
    verdicts = Verdicts(windows, instant(_required(now))) if windows is not None else None
    declared = risks(plan)
    for phase_id in ready:
        if len(starting) >= slots:
            break
        if verdicts is not None and approved(state, phase_id) is None:
            hold = _hold(verdicts, phase_id, declared[phase_id], p90)
            if hold is not None:
                held.append(hold)
                continue
        starting.append(phase_id)
    return starting, held


def _hold(
    verdicts: Verdicts, phase_id: str, risk: Risk | None, p90: Mapping[str, float] | None
) -> Hold | None:
    """Why ``phase_id`` may not start now, or None when it may."""
    verdict = verdicts(risk)
    if not verdict.open:
        return Hold(phase_id, verdict)
    seconds = p90.get(phase_id) if p90 is not None else None
    if seconds is None:
        return None
    found = verdicts.fit(risk, seconds)
    if found.fits:
        return None
    return Hold(phase_id, too_short(verdicts.windows, phase_id, verdict, found), found)


def local_time(at: datetime, timezone: str) -> str:
    """``Mon 16:00 EST`` as the plan's people read it."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def too_short(windows: Windows, phase_id: str, verdict: Verdict, found: Fit) -> Verdict:
    """The verdict a held phase waits with: closed *for it*, naming its p90, its finish, the
    close and the rule that closes the window (from ``is_open`` at the close)."""
    assert found.closes is not None
    closing = is_open(windows, found.closes, verdict.risk)
    tz = windows.timezone
    why = (
        f"its p90 duration {format_duration(found.seconds)} would end "
        f"{local_time(found.finish, tz)}, after the window closes "
        f"{local_time(found.closes, tz)} ({closing.why})"
    )
    return Verdict(False, verdict.at, verdict.risk, closing.rule, closing.reason, why)


def wait_for(plan: Plan, state: RunState, holds: list[Hold]) -> Wait:
    """What the run waits for: the held phase that opens first (plan order breaks ties)."""
    assert plan.windows is not None and holds
    opens: dict[tuple[Risk, float | None], datetime | None] = {}
    for hold in holds:
        key = _opening_key(hold)
        if key not in opens:
            opens[key] = starts_of(plan.windows, hold)

    def first(hold: Hold) -> float:
        when = opens[_opening_key(hold)]
        return when.timestamp() if when is not None else float("inf")

    hold = min(holds, key=first)
    when = opens[_opening_key(hold)]
    admission = all(p.start_seq is None for p in state.phases.values())
    return _wait(plan.windows, hold, when, admission=admission)


def _opening_key(hold: Hold) -> tuple[Risk, float | None]:
    return hold.verdict.risk, hold.fit.seconds if hold.fit is not None else None


def starts_of(windows: Windows, hold: Hold) -> datetime | None:
    """When the held phase may start by itself: the next opening, or for a phase too long
    for the window open now the next opening it fits in."""
    verdict = hold.verdict
    if hold.fit is None:
        return next_open(windows, verdict.at, verdict.risk)
    return next_fit(windows, verdict.at, verdict.risk, hold.fit.seconds)


def _wait(windows: Windows, hold: Hold, when: datetime | None, *, admission: bool) -> Wait:
    verdict = hold.verdict
    return Wait(
        phase=hold.phase,
        risk=verdict.risk,
        rule=verdict.rule,
        reason=verdict.reason,
        why=verdict.why,
        next_open=when.timestamp() if when is not None else None,
        timezone=windows.timezone,
        admission=admission,
    )


def rollback_risk(plan: Plan, state: RunState) -> Risk:
    """A rollback undoes every phase it unwinds: its risk is the highest of theirs (an
    undeclared one counts as high)."""
    assert state.rollback is not None
    phases = {e.get("phase") for e in state.rollback["order"]} - {None}
    declared = risks(plan)
    found = [declared[str(p)] or UNDECLARED_RISK for p in phases]
    return max(found, key=RISKS.index) if found else UNDECLARED_RISK


def rollback_hold(plan: Plan, state: RunState, now: float | None) -> Hold | None:
    """A rollback that must wait for its window: only with ``rollback: respect``, only before
    its first action, and never after a break-glass approval."""
    windows = plan.windows
    if windows is None or windows.rollback != "respect" or state.rollback is None:
        return None
    if approved(state, None) is not None or rollback_begun(state):
        return None
    verdict = is_open(windows, instant(_required(now)), rollback_risk(plan, state))
    return None if verdict.open else Hold(None, verdict)


def rollback_begun(state: RunState) -> bool:
    assert state.rollback is not None
    order = [e["key"] for e in state.rollback["order"]]
    if not order:
        return True  # nothing to undo: nothing to hold
    return any(state.items[k].status != "pending" or state.items[k].attempt for k in order) or any(
        k.startswith("verify:") for k in state.items
    )


def rollback_wait(plan: Plan, state: RunState, hold: Hold) -> Wait:
    assert plan.windows is not None
    when = next_open(plan.windows, hold.verdict.at, hold.verdict.risk)
    return _wait(plan.windows, hold, when, admission=False)


def decide_waiting(
    plan: Plan, state: RunState, now: float | None, p90: Mapping[str, float] | None = None
) -> list[EndWait]:
    """While the run waits: end the wait when the run fails (a rollback is not held by the
    forward path's window), when a break-glass approval came, or when a held phase may start
    (open, and long enough for its ``p90``)."""
    if state.failure is not None and state.mode == "forward":
        return [EndWait("failure")]
    if state.mode == "rollback":
        if rollback_hold(plan, state, now) is not None:
            return []
        by = approved(state, None)
        return [EndWait("break_glass", by) if by is not None else EndWait("opened")]
    if not state.ready or plan.windows is None:
        return [EndWait("opened")]  # nothing is held any more
    ready = set(state.ready)
    for key, who in state.approvals.items():
        if key.startswith(WINDOW_KEY) and key[len(WINDOW_KEY) :] in ready and who:
            return [EndWait("break_glass", who[-1])]
    # A verdict depends on the risk and the instant only: one evaluation per distinct risk of
    # the held phases, however many they are (this runs at every poll of a waiting run).
    verdicts = Verdicts(plan.windows, instant(_required(now)))
    declared = risks(plan)
    if p90 is None:
        if any(verdicts(r).open for r in {declared[p] for p in state.ready}):
            return [EndWait("opened")]
        return []
    if any(_hold(verdicts, p, declared[p], p90) is None for p in state.ready):
        return [EndWait("opened")]
    return []


def _required(now: float | None) -> float:
    if now is None:
        raise AssertionError("deciding for a plan with windows needs the time (decide's now)")
    return now


@dataclass(frozen=True, slots=True)
class PhaseWindow:
    """``plan --at``: when a phase would start and what it would wait for."""

    phase: str
    risk: Risk
    risk_declared: bool
    ready_at: datetime  # its needs done (each taken to last its p90, or no time without one)
    verdict: Verdict
    starts_at: datetime | None  # None: no opening (long enough) within 400 days
    p90: float | None = None  # its estimated p90 duration, seconds
    closes_at: datetime | None = None  # the window it starts in closes then (None: not soon)

    def as_dict(self) -> dict[str, object]:
        v = self.verdict
        return {
            "phase": self.phase,
            "risk": self.risk,
            "risk_declared": self.risk_declared,
            "ready_at": self.ready_at.isoformat(),
            "waits": not v.open,
            "rule": v.rule,
            "reason": v.reason,
            "why": v.why,
            "starts_at": self.starts_at.isoformat() if self.starts_at is not None else None,
            "p90": round(self.p90, 3) if self.p90 is not None else None,
            "closes_at": self.closes_at.isoformat() if self.closes_at is not None else None,
        }


def preview(plan: Plan, at: datetime, p90: Mapping[str, float] | None = None) -> list[PhaseWindow]:
    """Which phases of a run started at ``at`` would wait for which window, in dependency
    order. A phase is ready when the last of its needs would finish, each need taken to last
    its ``p90`` (cautious; no time without one); a phase must fit (open until its p90 finish),
    and a held one starts at the next opening it fits in. Empty for a plan without windows."""
    windows = plan.windows
    if windows is None:
        return []
    out: list[PhaseWindow] = []
    finish: dict[str, datetime | None] = {}
    pending = list(plan.phases)
    while pending:
        for phase in pending:
            if all(n in finish for n in phase.needs):
                break
        else:  # pragma: no cover - a validated plan has no cycles
            raise AssertionError("the phase DAG has a cycle")
        pending.remove(phase)
        risk = phase.risk or UNDECLARED_RISK
        seconds = p90.get(phase.id) if p90 is not None else None
        never = [n for n in phase.needs if finish[n] is None]
        ready = max([at, *(t for n in phase.needs if (t := finish[n]) is not None)])
        closes: datetime | None = None
        if never:
            why = f"after {never[0]}, whose window does not open within 400 days"
            verdict, starts = Verdict(False, ready, risk, None, None, why), None
        else:
            verdicts = Verdicts(windows, ready)
            hold = _hold(verdicts, phase.id, risk, p90)
            if hold is None:
                verdict, starts = verdicts(risk), ready
            else:
                verdict, starts = hold.verdict, starts_of(windows, hold)
            if starts is not None and seconds is not None:
                closes = next_close(windows, starts, risk)
        length = timedelta(seconds=seconds or 0.0)
        finish[phase.id] = starts + length if starts is not None else None
        out.append(
            PhaseWindow(
                phase.id, risk, phase.risk is not None, ready, verdict, starts, seconds, closes
            )
        )
    return out
