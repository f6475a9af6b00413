"""Each phase's estimated p90 duration, for the change-window fit (issue 13 §1): a phase
whose p90 finish falls after the open window closes waits for the next window long enough
(engine/windowing.py). Learned from the plan's history admitted by its calibration rule, the
plan's ``estimate:`` hints as prior (estimate/). Only for plans with ``windows:``.

Learned again when the history changes (``PhaseP90s``): a long run (seed 003's seven days)
must not judge Thursday's phase by what was known on Monday. The history is read again each
time a phase of this run ends (the moment a next phase may start and the fit is asked), and
the models are fitted again only when it differs from the one learned from (another run of
the plan finished, or an old one was rolled back since); reading it is one row per run
(durations digests), fitting it the dear part.

A phase with no basis (no admitted history, no hint of its own or on any of its steps) is
left out: the vague prior's p90 (minutes per step) would hold a brand-new plan's trivial
phase for no reason; only its window's opening is asked. A history that cannot be read leaves
the fit out likewise (or keeps what was learned before), and never stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from phasegate.errors import PhasegateError
from phasegate.plan.model import Plan

if TYPE_CHECKING:
    from phasegate.estimate import RunDurations
    from phasegate.run.state import RunState
    from phasegate.store.contract import JournalStore

HISTORY = 1_000  # the newest finished runs learned from (as the budget watch)
QUANTILE = 0.9
NOT_ENDED = ("pending", "running")  # a phase's statuses before it ends


# The plan's history; None: unreadable. The estimator is imported where it is used (only
# plans with ``windows:`` have p90s), not by every run's start-up.
History = Callable[[], "list[RunDurations] | None"]


class PhaseP90s:
    """Each phase's p90, learned from ``read()`` and learned again when it changes."""

    def __init__(self, plan: Plan, read: History, stamp: object = None) -> None:
        self.plan = plan
        self._read = read
        self._history: list[RunDurations] | None = None
        self._stamp = stamp  # what ``at`` is given now (learned for it here)
        self.values: dict[str, float] | None = None
        self.fits = 0  # how many times the models were fitted (tests read it)
        self.refresh()

    @classmethod
    def of_store(
        cls, store: JournalStore, plan: Plan, exclude: str | None, stamp: object = None
    ) -> PhaseP90s:
        def read() -> list[RunDurations] | None:
            from phasegate.estimate import read_history

            try:
                return read_history(store, plan.name, limit=HISTORY, exclude=exclude)
            except PhasegateError:
                return None

        return cls(plan, read, stamp)

    def refresh(self) -> dict[str, float] | None:
        """Read the history; fit again if it differs from the last one fitted. A history that
        cannot be read keeps the values learned before (none at first: only openings)."""
        if self.plan.windows is None:
            return None
        history = self._read()
        if history is not None and history != self._history:
            self._history = history
            self.values = p90s_of(self.plan, history)
            self.fits += 1
        return self.values

    def at(self, stamp: object) -> dict[str, float] | None:
        """The p90s, refreshed when ``stamp`` moved since the last call (the runner passes the
        phases of its run that have ended)."""
        if stamp != self._stamp:
            self._stamp = stamp
            self.refresh()
        return self.values


def p90s_of(plan: Plan, history: Iterable[RunDurations]) -> dict[str, float]:
    """Each phase with a basis: its p90 seconds under the plan's models taught by ``history``."""
    from phasegate.estimate import fit

    models = fit(plan, history).models
    return {
        p.id: models.phase_quantile(p.id, QUANTILE) for p in plan.phases if models.informed(p.id)
    }


def ended_phases(state: RunState) -> frozenset[str]:
    """The run's phases that have ended (``PhaseP90s.at``'s stamp): it moves when one ends."""
    return frozenset(p.id for p in state.phases.values() if p.status not in NOT_ENDED)
