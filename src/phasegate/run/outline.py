"""What a run's readers need to know of its plan, recorded once in ``run.created``.

A report, ``status``, the dashboard and the metrics digest show a run's phases by name, its
items in the order they run (not-run ones too), each gate's check kind, the approvals a gate
needs, the options of a decision, the canary's backends and the metrics an analysis judges.
All of it is the plan's, and before this record each view re-loaded (and re-validated) the
plan to learn it: slow, and wrong once the plan file changed or a newer phasegate read the plan
differently. The engine now writes a ``PlanOutline`` into the run's first event
(engine/outline.py builds it from the plan it is about to run), and views read that.

A journal written before event-schema version 2 has no outline (``RunCreated.outline`` is
None); readers then fall back to the plan text the run stored (report/data.py).
"""

from __future__ import annotations

from phasegate.run.record import Number, Record


class MetricOutline(Record):
    """One metric an analysis judges: its conditions and how many measurements it takes."""

    name: str
    success: str | None = None
    failure: str | None = None
    warning: str | None = None
    count: int | None = None  # None: measured until the analysis is stopped
    failure_limit: int = 0


class AnalysisOutline(Record):
    """The analysis an item runs: the plan's analysis by name, or ``None`` for an inline one."""

    name: str | None = None
    metrics: tuple[MetricOutline, ...] = ()


class ChoiceOutline(Record):
    """A decision step's variable and the options an approval chooses from."""

    var: str
    options: tuple[str, ...]


class ItemOutline(Record):
    """One item of a phase, in execution order (engine/decide.py ``phase_items``)."""

    key: str
    kind: str  # step | gate | analysis | fleet
    name: str
    check: str | None = None  # a gate's check kind (command, http, manual, …)
    approvals: int | None = None  # distinct approvals it needs (manual gate, pause: approve)
    choice: ChoiceOutline | None = None
    analysis: AnalysisOutline | None = None  # an analysis step or a phase's background one


class PhaseOutline(Record):
    id: str
    name: str | None = None
    risk: str | None = None
    needs: tuple[str, ...] = ()
    items: tuple[ItemOutline, ...] = ()


class TrafficOutline(Record):
    """The plan's canary routing: the backends in plan order and the router, described."""

    backends: tuple[str, ...] = ()
    router: str | None = None


class PlanOutline(Record):
    phases: tuple[PhaseOutline, ...] = ()
    traffic: TrafficOutline | None = None
    budget_duration: Number | None = None  # seconds
    budget_rollback: Number | None = None

    def phase(self, phase_id: str) -> PhaseOutline | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    def check_kinds(self) -> dict[str, str]:
        """Each gate's key -> its check kind."""
        return {
            item.key: item.check
            for phase in self.phases
            for item in phase.items
            if item.check is not None
        }
