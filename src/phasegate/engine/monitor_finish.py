"""Ending post-rollout monitoring early as succeeded (`phasegate monitor finish RUN`, `POST
/api/v1/runs/{id}/monitoring/finish`, operator role; docs/monitoring.md).

An operator who has seen enough says so: an ``approval.granted`` of ``monitor:finish``
journalled with who and why (listed under the run's decisions, like a break-glass). The
process executing the run is asked and finishes at once (``succeeded``, its lock released);
a run nobody executes (its owner died) finishes when resumed. Only a run that is
``monitoring`` can be finished so; a check being evaluated finishes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from phasegate.engine.operator import deliver_approval
from phasegate.engine.postmonitor import FINISH_KEY
from phasegate.errors import RunStateError, UsageError
from phasegate.run.inputs import Approve
from phasegate.store.contract import JournalStore


@dataclass(frozen=True)
class Finished:
    run_id: str
    delivered: bool  # a live process executing the run was asked; else `resume` finishes it
    evaluations: int  # monitoring checks done before it ended
    slots: int  # of how many


def finish_monitoring(store: JournalStore, run_ref: str, *, by: str, reason: str) -> Finished:
    """Journal ``by``'s early end of the run's monitoring (``reason`` required)."""
    if not reason.strip():
        raise UsageError(
            "ending monitoring early needs a reason",
            hint='say why, e.g. --reason "error rate flat for 6 h, closing the change"',
        )
    record = store.get_run(run_ref)
    state = store.load_state(record.id)
    if state.status != "monitoring" or state.monitoring is None:
        raise RunStateError(
            f"run {record.id} is {state.status}, not monitoring",
            hint="only a run in post-rollout monitoring can be finished early",
        )
    given = Approve(key=FINISH_KEY, by=by, required=1, comment=reason.strip())
    delivered = deliver_approval(store, record.id, given)
    monitoring = state.monitoring
    return Finished(record.id, delivered, int(monitoring["evaluations"]), int(monitoring["slots"]))
