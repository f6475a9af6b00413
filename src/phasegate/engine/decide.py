"""The engine's decisions: given the plan and the state, what happens next.

``decide`` is pure. The runner executes the commands it returns, journals what happened and
asks again. Keys: a step is ``phase/step``, a gate ``phase/gate:id``, a step's undo
``undo:phase/step``, a phase's rollback action ``rollback:phase/N``, a rollback verification
``verify:id``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from phasegate.engine import policing, postmonitor, runway, windowing
from phasegate.engine.canary import analysis_key
from phasegate.engine.commands import (
    Command,
    Finish,
    FinishPhase,
    FinishRollback,
    ItemWork,
    Pause,
    RunItem,
    SkipStep,
    StartPhase,
    StartRollback,
)
from phasegate.engine.traffic import BASELINE_KEY, PROMOTE_KEY
from phasegate.plan.model import Phase, Plan, gate_ids, phase_gates, step_ids
from phasegate.run.records import ItemBase
from phasegate.run.state import ITEM_DONE, RunState


def rollback_decision_key(phase: str) -> str:
    """The key of a phase's rollback decision (``rollback_decision:``), asked on rollback."""
    return f"rollback:{phase}/decide"


def step_key(phase: str, step: str) -> str:
    return f"{phase}/{step}"


def gate_key(phase: str, gate: str) -> str:
    return f"{phase}/gate:{gate}"


def phase_items(phase: Phase) -> list[tuple[str, str, int]]:
    """(key, kind, index) of a phase's steps (each after its ``pre_gates``), gates, then its
    background analysis (concluded when everything else in the phase is done), in execution
    order. A gate's index is its place in ``phase_gates(phase)``."""
    before: dict[str | None, list[tuple[str, str, int]]] = {}
    for index, (gid, _check, sid) in enumerate(phase_gates(phase)):
        before.setdefault(sid, []).append((gate_key(phase.id, gid), "gate", index))
    if phase.is_fleet:
        # One item walks the hosts (engine/fleet.py); the phase's gates follow it.
        gates = [g for sid in [*step_ids(phase), None] for g in before.get(sid, [])]
        return [(f"{phase.id}/fleet", "fleet", 0), *gates]
    items: list[tuple[str, str, int]] = []
    for index, sid in enumerate(step_ids(phase)):
        items += before.get(sid, [])
        items.append((step_key(phase.id, sid), "step", index))
    items += before.get(None, [])
    if phase.analysis is not None:
        items.append((analysis_key(phase.id), "analysis", 0))
    return items


# Skipped by `promote --full`: the steps that move traffic gradually or wait to see.
PROMOTE_SKIPS = ("set_weight", "pause", "analysis")


@dataclass(frozen=True)
class PlanIndex:
    """What decide needs from a plan, computed once per plan instead of once per event."""

    items: dict[str, list[tuple[str, str, int]]]
    canary_steps: frozenset[str]  # keys of the steps `promote --full` skips
    has_promote: bool


_INDEX_CACHE: dict[int, tuple[Plan, PlanIndex]] = {}


def plan_index(plan: Plan) -> PlanIndex:
    cached = _INDEX_CACHE.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    canary: set[str] = set()
    has_promote = False
    for phase in plan.phases:
        for sid, step in zip(step_ids(phase), phase.steps, strict=True):
            if step.action in PROMOTE_SKIPS:
                canary.add(step_key(phase.id, sid))
            has_promote |= step.action == "promote"
    index = PlanIndex(
        items={p.id: phase_items(p) for p in plan.phases},
        canary_steps=frozenset(canary),
        has_promote=has_promote,
    )
    if len(_INDEX_CACHE) > 32:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(plan)] = (plan, index)
    return index


def failure_action(plan: Plan, state: RunState) -> str:
    assert state.failure is not None
    return str(state.failure.get("action") or plan.on_failure)


def decide(
    plan: Plan,
    state: RunState,
    inflight: Collection[str],
    now: float | None = None,
    p90: Mapping[str, float] | None = None,
) -> list[Command]:
    """What to do next. ``now`` (epoch seconds, the runner's clock) is needed for a plan with
    ``windows:``: a phase starts only in an open window, and with ``p90`` (each phase's
    estimated p90 seconds) only when it would finish before that window closes
    (engine/windowing.py)."""
    if state.status == "waiting":
        return list(windowing.decide_waiting(plan, state, now, p90))
    if state.status == "monitoring":
        if state.failure is not None:  # the monitor's rollback, or an abort
            return [] if inflight else [StartRollback(rollback_order(plan, state))]
        return postmonitor.decide(state, inflight, now)
    if state.status not in ("running", "rolling_back"):
        return []
    if state.mode == "rollback":
        return _decide_rollback(plan, state, inflight, now)
    if state.failure is not None:
        if inflight:
            return []  # drain: in-flight steps finish (and are undone) before we unwind
        action = failure_action(plan, state)
        if action in ("rollback", "abort"):
            closing = _close_phases(plan, state)
            if closing:
                return closing
        if action == "rollback":
            return [StartRollback(rollback_order(plan, state))]
        if action == "pause":
            return [Pause("failure")]
        return [Finish("failed")]
    unknown = [k for k in state.unknown if state.items[k].status == "unknown"]
    if unknown:
        return [] if inflight else [Pause("unknown", tuple(unknown))]
    # A budget's projection over its pause bound (engine/budgets.py): nothing new starts,
    # what runs finishes, then the run pauses for the approval.
    over_budget = runway.held(plan.budget, state)
    if over_budget:
        return [] if inflight else [Pause("approval", tuple(over_budget))]
    commands: list[Command] = []
    awaiting: list[str] = []
    index = plan_index(plan)
    running = state.running
    # `promote --full` of a plan with a router but no `promote` step: all traffic to the
    # canary. Without a router there is no traffic to move; the canary steps are skipped.
    if state.promoted is not None and not index.has_promote and plan.traffic is not None:
        item = state.items.get(PROMOTE_KEY)
        if item is None or item.status not in ITEM_DONE:
            return [] if PROMOTE_KEY in inflight else [RunItem("promote_full", PROMOTE_KEY)]
    for phase_id in running:
        held = state.items.get(analysis_key(phase_id))
        if held is not None and held.status == "awaiting_approval":
            if state.promoted is not None:
                commands.append(SkipStep(held.key, phase_id))
            else:
                awaiting.append(held.key)  # its background analysis was inconclusive
            continue
        nxt = _next_item(index.items[phase_id], state)
        if nxt is None:
            commands.append(FinishPhase(phase_id))
            continue
        key, kind, _ = nxt
        if key in inflight:
            continue
        if state.promoted is not None and (key in index.canary_steps or kind == "analysis"):
            commands.append(SkipStep(key, phase_id))
            continue
        item = state.items.get(key)
        if item is not None and item.status == "awaiting_approval":
            awaiting.append(key)
            continue
        work: ItemWork = (
            "run_step"
            if kind == "step"
            else "run_gate"
            if kind == "gate"
            else "run_fleet"
            if kind == "fleet"
            else "finish_analysis"
        )
        commands.append(RunItem(work, key, phase_id))
    slots = max(plan.max_parallel - len(running), 0)
    holds: list[windowing.Hold] = []
    # A phase a run-time policy holds waits for its PHASE/policy decision (engine/policing.py).
    ready = [p for p in state.ready if not policing.held(state, p)]
    awaiting += [policing.policy_key(p) for p in state.ready if policing.held(state, p)]
    if plan.windows is None:
        starting = ready[:slots]
    else:
        starting, holds = windowing.admit(plan, state, ready, slots, now, p90)
    commands.extend(StartPhase(phase_id) for phase_id in starting)
    if commands or inflight:
        return commands
    if awaiting:
        return [Pause("approval", tuple(awaiting))]
    if holds:
        return [windowing.wait_for(plan, state, holds)]
    if all(p.status == "succeeded" for p in state.phases.values()):
        # With `monitor:`, success is the start of post-rollout monitoring (engine/postmonitor.py).
        return [postmonitor.START if plan.monitor is not None else Finish("succeeded")]
    return [Pause("blocked")]  # pragma: no cover - defensive


def _close_phases(plan: Plan, state: RunState) -> list[Command]:
    """Phases still running when the run failed: the failing one is closed last (newest)."""
    assert state.failure is not None
    failed_item = state.items.get(str(state.failure.get("item")))
    failed_phase = failed_item.phase if failed_item is not None else None
    running = sorted(state.running, key=lambda pid: pid == failed_phase)
    return [FinishPhase(pid, "failed" if pid == failed_phase else "stopped") for pid in running]


def _next_item(items: list[tuple[str, str, int]], state: RunState) -> tuple[str, str, int] | None:
    for key, kind, index in items:
        item = state.items.get(key)
        if item is None or item.status not in ITEM_DONE:
            return key, kind, index
    return None


def _decide_rollback(
    plan: Plan, state: RunState, inflight: Collection[str], now: float | None
) -> list[Command]:
    assert state.rollback is not None
    if inflight:
        return []
    hold = windowing.rollback_hold(plan, state, now)
    if hold is not None:
        return [windowing.rollback_wait(plan, state, hold)]
    order = [entry["key"] for entry in state.rollback["order"]]
    unknown = [k for k in order if state.items[k].status == "unknown"]
    if unknown:
        return [Pause("unknown", tuple(unknown))]
    for key in order:
        status = state.items[key].status
        if status == "awaiting_approval":
            # a rollback decision: nothing after it runs before a person has chosen
            return [Pause("approval", (key,))]
        if status in ("pending", "running", "retrying", "interrupted"):
            return [RunItem("run_undo", key)]
    for check_id in gate_ids(plan.verify_rollback, "verify"):
        key = f"verify:{check_id}"
        item = state.items.get(key)
        if item is None or item.status not in ITEM_DONE:
            return [RunItem("run_verify", key)]
    failed = [
        k
        for k, i in state.items.items()
        if (k.startswith(("undo:", "rollback:", "verify:", "traffic:")))
        and i.status in ("failed", "error")
    ]
    status = "rollback_failed" if failed else "rolled_back"
    return [FinishRollback(status)]


def rollback_order(plan: Plan, state: RunState) -> tuple[ItemBase, ...]:
    """Everything to unwind, newest first, after traffic is back on the baseline.

    Phases are unwound in reverse order of completion (a phase still running or failed counts
    as the newest); within a phase, the undo of each completed step, newest first, then the
    phase's own ``rollback`` actions in the order written.
    """
    started = [p for p in state.phases.values() if p.start_seq is not None]
    started.sort(key=lambda p: (p.end_seq is None, p.end_seq or 0, p.start_seq or 0), reverse=True)
    position = {key: i for i, key in enumerate(state.completed)}
    order: list[ItemBase] = []
    traffic = plan.traffic
    weights = state.traffic.get("weights")
    if traffic is not None and weights and weights != traffic.baseline_weights():
        # Traffic first: users stop reaching the new version before anything is undone.
        order.append(
            {"key": BASELINE_KEY, "kind": "traffic", "phase": None, "name": "traffic to baseline"}
        )
    for phase_state in started:
        phase = plan.phase(phase_state.id)
        if phase.is_fleet:
            order += _fleet_undos(phase, state.completed)
            order += _phase_rollback(phase)
            continue
        ids = step_ids(phase)
        done = [
            (position[step_key(phase.id, sid)], sid, step)
            for sid, step in zip(ids, phase.steps, strict=True)
            if step_key(phase.id, sid) in position
        ]
        for _, sid, step in sorted(done, key=lambda t: t[0], reverse=True):
            if step.undo is not None:
                order.append(
                    {
                        "key": f"undo:{step_key(phase.id, sid)}",
                        "kind": "undo",
                        "phase": phase.id,
                        "name": step.undo.name or sid,
                    }
                )
        order += _phase_rollback(phase)
    return tuple(order)


def _phase_rollback(phase: Phase) -> list[ItemBase]:
    decision: list[ItemBase] = []
    if phase.rollback_decision is not None:  # asked before the ways it chooses between
        key = rollback_decision_key(phase.id)
        decision = [{"key": key, "kind": "rollback", "phase": phase.id, "name": "decide"}]
    return decision + [
        {
            "key": f"rollback:{phase.id}/{index + 1}",
            "kind": "rollback",
            "phase": phase.id,
            "name": action.name or f"rollback {index + 1}",
        }
        for index, action in enumerate(phase.rollback)
    ]


def _fleet_undos(phase: Phase, completed: list[str]) -> list[ItemBase]:
    """A fleet phase's undos: each (host, step) that completed, newest first, on its host."""
    steps = dict(zip(step_ids(phase), phase.steps, strict=True))
    order: list[ItemBase] = []
    for key in reversed(completed):
        head, sep, host = key.rpartition("@")
        if not sep or not head.startswith(f"{phase.id}/"):
            continue
        step = steps.get(head[len(phase.id) + 1 :])
        if step is None or step.undo is None:
            continue
        order.append(
            {
                "key": f"undo:{key}",
                "kind": "undo",
                "phase": phase.id,
                "name": f"{step.undo.name or step.label} @ {host}",
            }
        )
    return order
