"""Real journals with chosen timings: runs written through the store contract (memory or
SQLite) with the events the engine writes, at the instants a test picks."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from phasegate.run import events as ev
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner


@dataclass
class Timeline:
    """One run to write: the steps of each phase with their durations (phases in order, each
    after the previous one), its vars, and human waits to insert."""

    run_id: str
    start: float
    phases: Mapping[str, Sequence[tuple[str, float]]]  # phase -> [(step id, seconds)]
    vars: dict[str, Any] = field(default_factory=dict)
    status: str = "succeeded"
    approval_wait: float = 0.0  # a `pause: approve` step at the end of the first phase
    pause_wait: float = 0.0  # a run.paused ... run.resumed gap before the last phase


def write_run(store: JournalStore, plan_name: str, plan_text: str, run: Timeline) -> float:
    """Write ``run``'s journal; returns the instant it finished."""
    phases = list(run.phases)
    store.create_run(
        run_id=run.run_id,
        plan_name=plan_name,
        plan_path="plan.yaml",
        plan_sha256=hashlib.sha256(plan_text.encode()).hexdigest(),
        plan_text=plan_text,
        lock_name=plan_name,
        idempotency_key=None,
        options={},
        phases=phases,
        needs={p: [phases[i - 1]] for i, p in enumerate(phases) if i},
        owner=Owner.me(),
        ts=run.start,
    )
    state = store.load_state(run.run_id)
    now = run.start
    batch: list[tuple[ev.Event, float]] = [(ev.RunStarted(vars=run.vars), now)]
    for index, (phase, steps) in enumerate(run.phases.items()):
        if index == len(phases) - 1 and run.pause_wait:
            batch.append((ev.RunPaused(reason="failure", message="paused"), now))
            now += run.pause_wait
            batch.append((ev.RunResumed(after="paused"), now))
        batch.append((ev.PhaseStarted(phase=phase), now))
        for step, seconds in steps:
            key = f"{phase}/{step}"
            batch.append((ev.ItemStarted(key=key, kind="step", phase=phase, name=step), now))
            now += seconds
            batch.append(
                (
                    ev.ItemFinished(
                        key=key, kind="step", phase=phase, name=step, status="succeeded"
                    ),
                    now,
                )
            )
        if index == 0 and run.approval_wait:
            key = f"{phase}/approve"
            ref = {"key": key, "kind": "step", "phase": phase, "name": "approve"}
            batch.append((ev.ItemFinished(**ref, status="awaiting_approval"), now))
            batch.append((ev.RunPaused(reason="approval", items=(key,)), now))
            batch.append((ev.ApprovalGranted(key=key, by="alice"), now + run.approval_wait / 2))
            now += run.approval_wait
            batch.append((ev.RunResumed(after="paused"), now))
            batch.append((ev.ItemStarted(**ref), now))
            batch.append((ev.ItemFinished(**ref, status="succeeded"), now))
        batch.append((ev.PhaseFinished(phase=phase, status=run.status), now))
    batch.append((ev.RunFinished(status=run.status), now))
    store.append(state, list(batch), durable=False)
    return now
