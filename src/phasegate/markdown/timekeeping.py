"""Time in a document -> plan keys (issue 13 §6): change windows and phase risks
(``windows_section``), budget guardrails (``guardrails``), post-rollout monitoring
(``monitoring``). One hook for the importer: ``apply`` after the mapping, ``head`` and
``phase_keys`` when the plan is emitted.
"""

from __future__ import annotations

from typing import Any

from phasegate.markdown import guardrails, monitoring, windows_section
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.parse import Document


def apply(draft: Draft, doc: Document) -> None:
    windows_section.apply(draft, doc)
    guardrails.apply(draft, doc)
    monitoring.apply(draft)


def head(draft: Draft, head: dict[str, Any]) -> None:
    """Merge the plan keys into the emitted head (``budget`` joins the rollback budget)."""
    keys = dict(draft.plan_keys)
    budget = keys.pop("budget", None)
    if budget:
        head["budget"] = {**head.get("budget", {}), **budget}
    monitor = keys.pop("monitor", None)
    keys.pop("_monitor_line", None)
    if monitor is not None:
        head["monitor"] = monitor
    head.update(keys)


def phase_keys(phase: PhaseDraft) -> dict[str, Any]:
    return dict(phase.extra)
