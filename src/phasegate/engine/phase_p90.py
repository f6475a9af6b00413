"""Each phase's estimated p90 duration, for the change-window fit (issue 13 §1): a phase
whose p90 finish falls after the open window closes waits for the next window long enough
(engine/windowing.py). Learned once per engine from the plan's history admitted by its
calibration rule, the plan's ``estimate:`` hints as prior (estimate/). Only for plans with
``windows:``. A phase with no basis (no admitted history, no hint of its own or on any of
its steps) is left out: the vague prior's p90 (minutes per step) would hold a brand-new plan's
trivial phase for no reason; only its window's opening is asked. A history that cannot be
read leaves the fit out likewise, and never stops the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from phasegate.errors import PhasegateError
from phasegate.estimate import RunDurations, fit, read_history
from phasegate.plan.model import Plan

if TYPE_CHECKING:
    from phasegate.store.contract import JournalStore

HISTORY = 1_000  # the newest finished runs learned from (as the budget watch)
QUANTILE = 0.9


def phase_p90s(store: JournalStore, plan: Plan, exclude: str | None) -> dict[str, float] | None:
    """Seconds each phase takes with probability 0.9, by phase id; None for a plan without
    windows or when the history cannot be read."""
    if plan.windows is None:
        return None
    try:
        history = read_history(store, plan.name, limit=HISTORY, exclude=exclude)
    except PhasegateError:
        return None
    return p90s_of(plan, history)


def p90s_of(plan: Plan, history: Iterable[RunDurations]) -> dict[str, float]:
    """Each phase with a basis: its p90 seconds under the plan's models taught by ``history``."""
    models = fit(plan, history).models
    return {
        p.id: models.phase_quantile(p.id, QUANTILE) for p in plan.phases if models.informed(p.id)
    }
