"""Time in a document -> plan keys (issue 13 §6): change windows and phase risks
(``windows_section``), budget guardrails (``guardrails``), post-rollout monitoring
(``monitoring``). One hook for the importer: ``apply`` after the mapping, ``head`` and
``phase_keys`` when the plan is emitted.
"""

from __future__ import annotations

from phasegate.markdown import guardrails, monitoring, windows_section
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.nodes import PhaseExtra, PlanNode
from phasegate.markdown.parse import Document


def apply(draft: Draft, doc: Document) -> None:
    windows_section.apply(draft, doc)
    guardrails.apply(draft, doc)
    monitoring.apply(draft)


def head(draft: Draft, head: PlanNode) -> None:
    """Merge the plan keys into the emitted head (``budget`` joins the rollback budget), in
    this order: budget, monitor, windows (``_monitor_line`` is the importer's own)."""
    keys = draft.plan_keys
    budget = keys.get("budget")
    if budget:
        head["budget"] = {**head.get("budget", {}), **budget}
    monitor = keys.get("monitor")
    if monitor is not None:
        head["monitor"] = monitor
    if "windows" in keys:
        head["windows"] = keys["windows"]


def phase_keys(phase: PhaseDraft) -> PhaseExtra:
    return phase.extra.copy()
