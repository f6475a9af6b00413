"""Policies before each phase starts, at run time (issue 14 §6).

Admission (``run --policies DIR``, ``serve --policies DIR``) judged the plan as written. Before
each phase starts the engine asks the run's pack again, with the run's facts added to the
input (``input.run`` in Rego, ``each: run`` rules in CEL): the phase about to start, the time,
who started the run, its variables (secrets masked) and its phases' statuses. What admission
already decided (a violation of the plan as written: refused, overridden or reported then) is
not asked again; what the facts add is:

- advisory: a ``warning`` event, and the phase starts;
- soft: the phase is held. Its item ``PHASE/policy`` waits for an approval (``phasegate
  approve RUN``); an approval overrides it, journalled (``policy.overridden``, by whom, the
  approver's comment as the reason) and the phase starts. ``phasegate reject`` is a no-go: the
  run rolls back;
- hard: the phase is held the same way, but no approval lets it through. Fix the cause (the
  facts change, e.g. the time) and ``phasegate resume RUN --retry-step PHASE/policy`` asks
  again, or ``reject``/``abort`` it.

The pack is the one the run was admitted with (its directory is recorded in the run's options,
so a resume or a server's worker asks the same pack). A pack that cannot be read any more
holds the phase as a hard violation would: safety first, a person decides.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from phasegate.errors import PhasegateError
from phasegate.run.events import Event, ItemFinished, PolicyOverridden, Warning
from phasegate.run.state import RunState
from phasegate.store.records import started_by

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort
    from phasegate.policy import Pack, Verdict, Violation
    from phasegate.policy.document import PlanDocument

# phasegate.policy (the CEL and Rego evaluators) is imported when a run has a pack, not at
# every run's start: decide imports this module for ``held`` (docs/performance.md).

ITEM = "policy"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def policy_key(phase: str) -> str:
    """The item that holds ``phase`` while a policy says it may not start."""
    return f"{phase}/{ITEM}"


def held(state: RunState, phase: str) -> bool:
    """``phase`` waits for a decision on its policies (``decide`` does not start it)."""
    item = state.items.get(policy_key(phase))
    return item is not None and item.status == "awaiting_approval"


def facts(runner: RunPort, phase: str, started_by: str | None) -> dict[str, object]:
    """What ``input.run`` holds before ``phase`` starts. Times are UTC."""
    state, ctx = runner.state, runner.ctx
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    spec = ctx.plan.phase(phase)
    return {
        "id": ctx.run_id,
        "phase": {"id": phase, "risk": spec.risk if spec is not None else None},
        "now": now.isoformat().replace("+00:00", "Z"),
        "weekday": _DAYS[now.weekday()],
        "hour": now.hour,
        "started_by": started_by,
        "vars": ctx.variables.masked(),
        "phases": {pid: p.status for pid, p in state.phases.items()},
    }


class PhasePolicies:
    """The run's pack, asked before each phase starts."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._pack: Pack | None = None
        self._document: PlanDocument | None = None
        self._admitted: set[tuple[str, str, tuple[object, ...], str]] | None = None
        self._started_by: str | None = None

    def _load(self, runner: RunPort) -> tuple[Pack, PlanDocument]:
        if self._pack is None or self._document is None:
            from phasegate.policy import load_pack
            from phasegate.policy.document import plan_document

            self._pack = load_pack(self.directory)
            self._document = plan_document(runner.ctx.loaded)
        return self._pack, self._document

    def verdict(self, runner: RunPort, phase: str) -> Verdict:
        """What the run's facts add to admission's verdict before ``phase`` starts."""
        from phasegate.policy import Verdict

        pack, document = self._load(runner)
        if self._admitted is None:
            self._admitted = {_identity(v) for v in pack.evaluate_document(document).violations}
            self._started_by = _starter(runner)
        data = {**document.data, "run": facts(runner, phase, self._started_by)}
        verdict = pack.evaluate_document(dataclasses.replace(document, data=data))
        return Verdict([v for v in verdict.violations if _identity(v) not in self._admitted])

    def admit(self, runner: RunPort, phase: str) -> bool:
        """True: ``phase`` may start (its warnings and overrides journalled). False: it is held,
        its item ``PHASE/policy`` waiting for a person."""
        key = policy_key(phase)
        try:
            verdict = self.verdict(runner, phase)
        except PhasegateError as exc:
            _hold(runner, phase, f"the run's policy pack cannot be evaluated: {exc}", hard=True)
            return False
        events: list[Event] = [
            Warning(message=f"policy advisory before phase {phase}: {v.render()}", item=key)
            for v in verdict.advisory
        ]
        approvers = runner.state.approvals.get(key) or []
        if verdict.hard or (verdict.soft and not approvers):
            runner.journal_many(events, durable=False)
            _hold(runner, phase, _message(verdict), hard=bool(verdict.hard))
            return False
        if verdict.soft:
            who, why = approvers[-1], _comment(runner.state, key)
            by_policy: dict[str, list[str]] = {}
            for violation in verdict.soft:
                by_policy.setdefault(violation.policy, []).append(violation.render())
            for policy, rendered in sorted(by_policy.items()):
                events.append(
                    PolicyOverridden(policy=policy, by=who, reason=why, violations=tuple(rendered))
                )
        item = runner.state.items.get(key)
        if item is not None and item.status != "succeeded":
            events.append(_finished(phase, "succeeded", _passed(verdict, approvers)))
        runner.journal_many(events, durable=bool(verdict.soft))
        return True


def _starter(runner: RunPort) -> str | None:
    """Who started the run (store/records.py ``started_by``, as self-review reads it)."""
    return started_by(runner.store.get_run(runner.ctx.run_id), runner.store.events)


def _identity(v: Violation) -> tuple[str, str, tuple[object, ...], str]:
    return (v.policy, v.level, tuple(v.path), v.message)


def _message(verdict: Verdict) -> str:
    shown = [v.render() for v in verdict.hard + verdict.soft]
    head = (
        "a hard policy forbids starting it (an approval cannot override it; fix the cause, "
        "then `resume --retry-step`, or reject)"
        if verdict.hard
        else "a soft policy holds it until an approval overrides it"
    )
    return f"{head}: " + "; ".join(shown)


def _passed(verdict: Verdict, approvers: list[str]) -> str:
    if verdict.soft:
        return f"soft policies overridden by {', '.join(approvers)}"
    return "the run's policies pass"


def _comment(state: RunState, key: str) -> str:
    for decision in reversed(state.decisions):
        if decision["key"] == key and decision["decision"] == "approved":
            return decision.get("comment") or "approved at run time"
    return "approved at run time"


def _finished(phase: str, status: str, message: str) -> ItemFinished:
    return ItemFinished(
        key=policy_key(phase),
        kind="gate",
        phase=phase,
        name=f"policies before {phase}",
        status=status,
        message=message,
        started_at=time.time(),
    )


def _hold(runner: RunPort, phase: str, message: str, *, hard: bool) -> None:
    item = runner.state.items.get(policy_key(phase))
    if item is not None and item.status == "awaiting_approval":
        return  # already held: nothing new to say
    runner.journal(_finished(phase, "awaiting_approval", message), durable=True)
    level = "hard" if hard else "soft"
    runner.ctx.console.note(f"⛔ phase {phase} held by {level} policy: {message}", "yellow")
