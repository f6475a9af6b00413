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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from phasegate.engine.commands import EndWait, Wait
from phasegate.plan.model import Plan
from phasegate.plan.windows import RISKS, Risk, Windows
from phasegate.run.state import RunState
from phasegate.windows import UNDECLARED_RISK, Verdict, is_open, next_open

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


class Verdicts:
    """``is_open`` per risk at one instant: a verdict depends on the risk and the time only, so
    a plan with thousands of ready phases costs at most four evaluations per decision."""

    def __init__(self, windows: Windows, at: datetime) -> None:
        self.windows, self.at = windows, at
        self._by_risk: dict[Risk, Verdict] = {}

    def __call__(self, risk: Risk | None) -> Verdict:
        risk = risk or UNDECLARED_RISK
        found = self._by_risk.get(risk)
        if found is None:
            found = self._by_risk[risk] = is_open(self.windows, self.at, risk)
        return found


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
    plan: Plan, state: RunState, ready: Iterable[str], slots: int, now: float | None
) -> tuple[list[str], list[Hold]]:
    """The ready phases that may start now (at most ``slots``, in plan order) and those a
    closed window holds. A held phase does not take a slot: a later, open one may start."""
    starting: list[str] = []
    held: list[Hold] = []
    windows = plan.windows
    verdicts = Verdicts(windows, instant(_required(now))) if windows is not None else None
    declared = risks(plan)
    for phase_id in ready:
        if len(starting) >= slots:
            break
        if verdicts is not None and approved(state, phase_id) is None:
            verdict = verdicts(declared[phase_id])
            if not verdict.open:
                held.append(Hold(phase_id, verdict))
                continue
        starting.append(phase_id)
    return starting, held


def wait_for(plan: Plan, state: RunState, holds: list[Hold]) -> Wait:
    """What the run waits for: the held phase that opens first (plan order breaks ties)."""
    assert plan.windows is not None and holds
    opens: dict[Risk, datetime | None] = {}
    for hold in holds:
        if hold.verdict.risk not in opens:
            opens[hold.verdict.risk] = next_open(plan.windows, hold.verdict.at, hold.verdict.risk)

    def first(hold: Hold) -> float:
        when = opens[hold.verdict.risk]
        return when.timestamp() if when is not None else float("inf")

    hold = min(holds, key=first)
    when = opens[hold.verdict.risk]
    admission = all(p.start_seq is None for p in state.phases.values())
    return _wait(plan.windows, hold, when, admission=admission)


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


def decide_waiting(plan: Plan, state: RunState, now: float | None) -> list[EndWait]:
    """While the run waits: end the wait when the run fails (a rollback is not held by the
    forward path's window), when a break-glass approval came, or when a held phase may start."""
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
    if any(verdicts(r).open for r in {declared[p] for p in state.ready}):
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
    ready_at: datetime  # its needs done (each phase taken to last no time: no estimates yet)
    verdict: Verdict
    starts_at: datetime | None  # None: no opening within 400 days

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
        }


def preview(plan: Plan, at: datetime) -> list[PhaseWindow]:
    """Which phases of a run started at ``at`` would wait for which window, in dependency
    order. Each phase is taken to last no time (durations are not estimated yet), so a phase
    is ready when the last of its needs could start; a held phase starts at the next
    opening for its risk. Empty for a plan without windows."""
    windows = plan.windows
    if windows is None:
        return []
    out: list[PhaseWindow] = []
    start: dict[str, datetime | None] = {}
    pending = list(plan.phases)
    while pending:
        for phase in pending:
            if all(n in start for n in phase.needs):
                break
        else:  # pragma: no cover - a validated plan has no cycles
            raise AssertionError("the phase DAG has a cycle")
        pending.remove(phase)
        risk = phase.risk or UNDECLARED_RISK
        never = [n for n in phase.needs if start[n] is None]
        ready = max([at, *(t for n in phase.needs if (t := start[n]) is not None)])
        if never:
            why = f"after {never[0]}, whose window does not open within 400 days"
            verdict, starts = Verdict(False, ready, risk, None, None, why), None
        else:
            verdict = is_open(windows, ready, risk)
            starts = ready if verdict.open else next_open(windows, ready, risk)
        start[phase.id] = starts
        out.append(PhaseWindow(phase.id, risk, phase.risk is not None, ready, verdict, starts))
    return out
