"""A dry-run description of a plan, used by ``phasegate plan``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NotRequired, TypedDict

from phasegate.checks.base import CheckSpec
from phasegate.checks.manual import ManualCheck
from phasegate.plan.display import CheckDetails, Shown, check_details
from phasegate.plan.loader import LoadedPlan
from phasegate.plan.model import OnFailure, Plan, VarSpec, gate_ids, phase_gates, step_ids
from phasegate.plan.postmonitor import LockChoice, MonitorAction, as_json, expand_schedule
from phasegate.plan.variables import Variables, resolve
from phasegate.plugin import DEFAULT_CHECK_TIMEOUT, describe_command
from phasegate.run.postmonitor import offsets, total
from phasegate.run.record import JsonDict
from phasegate.substitution import BUILTINS


class Unchecked(TypedDict):
    """A manual check not ticked in the plan, and where it is (its path in the plan data)."""

    key: str
    name: str
    path: tuple[str | int, ...]


class ShownCheck(TypedDict):
    description: str | None
    expectation: str | None


class GateView(CheckDetails):
    id: str
    kind: str
    description: str
    expectation: str
    shown: ShownCheck
    checked: NotRequired[bool]
    fails_unchecked: NotRequired[bool]


class ShownStep(TypedDict):
    command: str | None
    undo: str | None
    when: str | None


class StepView(TypedDict):
    id: str
    pre_gates: list[GateView]
    name: str
    command: str
    set_weight: int | dict[str, int] | None
    when: str | None
    undo: str | None
    timeout: float | None
    retries: int
    backoff: float | None
    bake: float | None
    shown: ShownStep
    idempotent: bool
    continue_on_error: bool


class MonitorView(TypedDict):
    name: str
    command: str
    shown: str | None
    every: float | None


class PhaseView(TypedDict):
    id: str
    name: str | None
    needs: list[str]
    steps: list[StepView]
    gates: list[GateView]
    rollback: list[str]
    rollback_shown: list[str | None]
    rollback_budget: float | None
    monitors: list[MonitorView]
    on_failure: OnFailure


class TriggerView(CheckDetails):
    name: str
    description: str
    every: float
    fail_after: int
    action: str
    initial_delay: float
    during: list[str]
    shown: str | None


class PostMonitorView(TypedDict):
    """Post-rollout monitoring as the run would do it (``error`` when the schedule cannot
    be expanded, else ``schedule``, ``slots`` and ``duration``)."""

    checks: list[str]
    on_failure: MonitorAction
    fail_after: int
    lock: LockChoice
    error: NotRequired[str]
    schedule: NotRequired[list[dict[str, float]]]
    slots: NotRequired[int]
    duration: NotRequired[float]


class BudgetView(TypedDict):
    duration: float | None
    rollback: float | None


class DefaultsView(TypedDict):
    timeout: float | None
    check_timeout: float


class PreviewDoc(TypedDict):
    """What ``phasegate plan --json`` prints and ``POST /api/v1/plans/preview`` returns
    (the CLI adds ``eta`` and, with ``--at``, ``windows_at``)."""

    name: str
    file: str
    sha256: str
    vars: dict[str, str]
    waves: list[list[str]]
    phases: list[PhaseView]
    triggers: list[TriggerView]
    verify_rollback: list[str]
    verify_rollback_checks: list[GateView]
    monitor: PostMonitorView | None
    on_failure: OnFailure
    budget: BudgetView
    defaults: DefaultsView
    max_parallel: int
    require_checked: bool
    eta: NotRequired[JsonDict]
    windows_at: NotRequired[JsonDict]


def waves(plan: Plan) -> list[list[str]]:
    """Phases grouped by dependency depth: each wave may run concurrently."""
    depth: dict[str, int] = {}

    def level(phase_id: str) -> int:
        if phase_id not in depth:
            needs = plan.phase(phase_id).needs
            depth[phase_id] = 1 + max((level(n) for n in needs), default=-1)
        return depth[phase_id]

    out: list[list[str]] = []
    for phase in plan.phases:
        d = level(phase.id)
        while len(out) <= d:
            out.append([])
        out[d].append(phase.id)
    return out


def unchecked_manual_checks(plan: Plan) -> list[Unchecked]:
    """The manual checks not ticked in the plan: what ``--require-checked`` fails."""
    found: list[Unchecked] = []
    for p_index, phase in enumerate(plan.phases):
        sids = step_ids(phase)
        place = {sid: index for index, sid in enumerate(sids)}
        seen: dict[str | None, int] = {}
        for gid, check, before in phase_gates(phase):
            g_index = seen[before] = seen.get(before, -1) + 1
            path: tuple[str | int, ...] = ("phases", p_index, "gates", g_index)
            if before is not None:
                path = ("phases", p_index, "steps", place[before], "pre_gates", g_index)
            if isinstance(check, ManualCheck) and not check.checked:
                found.append(
                    {"key": f"{phase.id}/gate:{gid}", "name": check.describe(), "path": path}
                )
    return found


def _gate(
    gid: str, check: CheckSpec, require_checked: bool, shown: Shown, timeout: float | None
) -> GateView:
    details = check_details(check, timeout)
    gate: GateView = {
        "id": gid,
        "kind": check.kind,
        "description": check.describe(),
        "expectation": check.expectation(),
        "shown": {
            "description": shown(check.describe()),
            "expectation": shown(check.expectation()),
        },
        # check_details(check, timeout), spelled out (a ** would leave the optional keys)
        "severity": details["severity"],
        "retry": details["retry"],
        "hold_for": details["hold_for"],
        "hold_every": details["hold_every"],
        "timeout": details["timeout"],
    }
    if isinstance(check, ManualCheck):
        gate["checked"] = check.checked
        # Unchecked: pauses for approval, or fails under --require-checked.
        gate["fails_unchecked"] = require_checked and not check.checked
    return gate


def shown_vars(plan: Plan, overrides: Mapping[str, str], variables: Variables) -> dict[str, str]:
    """Each variable as a preview shows it: a secret as ``***``, a value read from the
    environment as where it comes from (``(from env NAME)``), never the value itself. A
    preview is for reviewing a plan, and its reader may not be allowed to read the
    environment of whoever renders it (the server's, over the API)."""
    shown: dict[str, str] = {}
    for name, value in variables.masked().items():
        if name in BUILTINS:
            continue
        spec = plan.vars.get(name)
        if name not in overrides and isinstance(spec, VarSpec) and spec.env is not None:
            secret = ", secret" if name in variables.secrets else ""
            shown[name] = f"(from env {spec.env}{secret})"
        else:
            shown[name] = value
    return shown


def _monitor(plan: Plan, expand: Callable[[str], str]) -> PostMonitorView | None:
    """Post-rollout monitoring as the run would do it: the schedule with its variables
    expanded (or why it cannot be), the checks' names, the action and the lock."""
    monitor = plan.monitor
    if monitor is None:
        return None
    names = [c.id or f"check-{i + 1}" for i, c in enumerate(monitor.checks)]
    names += [f"trigger:{name}" for name in monitor.triggers]
    found: PostMonitorView = {
        "checks": names,
        "on_failure": monitor.on_failure,
        "fail_after": monitor.fail_after,
        "lock": monitor.lock,
    }
    try:
        segments = expand_schedule(monitor.schedule, expand)
    except ValueError as exc:
        return {**found, "error": str(exc)}
    return {
        **found,
        "schedule": as_json(segments),
        "slots": len(offsets(segments)),
        "duration": total(segments),
    }


def preview(
    loaded: LoadedPlan,
    overrides: dict[str, str],
    *,
    require_checked: bool = False,
    environ: Mapping[str, str] | None = None,
    file: str | None = None,
) -> PreviewDoc:
    """``environ``: the environment ``{env: …}`` variables are read from (the process's by
    default; the server passes an empty one). ``file``: the name to show for the plan."""
    plan = loaded.plan
    builtins = {name: f"<{name}>" for name in BUILTINS}
    variables = resolve(plan, overrides, builtins, environ, allow_unset_env=True)
    shown = Shown(plan, variables, overrides)
    default_timeout = plan.defaults.timeout
    check_timeout = default_timeout or DEFAULT_CHECK_TIMEOUT
    phases: list[PhaseView] = []
    for phase in plan.phases:
        steps: list[StepView] = []
        pre = {gid: before for gid, _, before in phase_gates(phase)}
        for sid, step in zip(step_ids(phase), phase.steps, strict=True):
            before = [gid for gid, step_id in pre.items() if step_id == sid]
            steps.append(
                {
                    "id": sid,
                    "pre_gates": [
                        _gate(gid, g, require_checked, shown, check_timeout)
                        for gid, g in zip(before, step.pre_gates, strict=True)
                    ],
                    "name": step.label,
                    "command": describe_command(step.run) if step.run is not None else step.label,
                    "set_weight": step.set_weight,
                    "when": step.when,
                    "undo": describe_command(step.undo.run) if step.undo else None,
                    # defaults.timeout limits commands; a pause, bake or analysis has its own.
                    "timeout": step.timeout
                    if step.timeout is not None or step.run is None
                    else default_timeout,
                    "retries": step.retries,
                    "backoff": step.backoff if step.retries else None,
                    "bake": step.bake,
                    "shown": {
                        "command": shown(
                            describe_command(step.run) if step.run is not None else step.label
                        ),
                        "undo": shown(describe_command(step.undo.run)) if step.undo else None,
                        "when": shown(step.when),
                    },
                    "idempotent": step.idempotent,
                    "continue_on_error": step.continue_on_error,
                }
            )
        gates = [
            _gate(gid, g, require_checked, shown, check_timeout)
            for gid, g in zip(gate_ids(phase.gates), phase.gates, strict=True)
        ]
        phases.append(
            {
                "id": phase.id,
                "name": phase.name,
                "needs": phase.needs,
                "steps": steps,
                "gates": gates,
                "rollback": [describe_command(a.run) for a in phase.rollback],
                "rollback_shown": [shown(describe_command(a.run)) for a in phase.rollback],
                "rollback_budget": phase.rollback_budget,
                "monitors": [
                    {
                        "name": m.name,
                        "command": describe_command(m.run),
                        "shown": shown(describe_command(m.run)),
                        "every": m.every,
                    }
                    for m in phase.monitors
                ],
                "on_failure": phase.on_failure or plan.on_failure,
            }
        )
    return {
        "name": plan.name,
        "file": str(loaded.path) if file is None else file,
        "sha256": loaded.sha256,
        "vars": shown_vars(plan, overrides, variables),
        "waves": waves(plan),
        "phases": phases,
        "triggers": [
            {
                "name": t.name,
                "description": t.check.describe(),
                "every": t.every,
                "fail_after": t.fail_after,
                "action": t.action,
                "initial_delay": t.initial_delay,
                "during": t.during,
                "shown": shown(t.check.describe()),
                **check_details(t.check, check_timeout),
            }
            for t in plan.triggers
        ],
        "verify_rollback": [c.describe() for c in plan.verify_rollback],
        "verify_rollback_checks": [
            _gate(gid, c, False, shown, check_timeout)
            for gid, c in zip(
                gate_ids(plan.verify_rollback, "verify"), plan.verify_rollback, strict=True
            )
        ],
        "monitor": _monitor(plan, variables.expand),
        "on_failure": plan.on_failure,
        "budget": {"duration": plan.budget.duration, "rollback": plan.budget.rollback},
        "defaults": {"timeout": default_timeout, "check_timeout": check_timeout},
        "max_parallel": plan.max_parallel,
        "require_checked": require_checked,
    }
