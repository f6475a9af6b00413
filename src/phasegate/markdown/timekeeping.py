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
from phasegate.plan.model import Plan


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
    line = int(keys.pop("_monitor_line", 0) or 0)
    if monitor is not None:
        if "monitor" in Plan.model_fields:
            head["monitor"] = monitor
        else:  # this phasegate has no post-rollout monitoring yet: kept, not lost
            draft.metadata["monitor"] = monitor
            draft.note(
                "ambiguous",
                line=line,
                what="post-rollout monitoring kept under metadata.monitor: this phasegate's "
                "plans have no `monitor:` yet",
            )
    head.update(keys)


def phase_keys(phase: PhaseDraft) -> dict[str, Any]:
    return dict(phase.extra)
