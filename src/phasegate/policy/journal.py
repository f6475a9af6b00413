"""What admission let through, as journal events: each soft policy overridden (who, why, the
violations it let through) and each advisory violation. Written into a created run before it
starts, by the CLI's `run --override-policy` and the API's `override_policies` alike."""

from __future__ import annotations

import time
from collections.abc import Iterable

from phasegate.policy.admission import overridden
from phasegate.policy.model import Verdict
from phasegate.run.events import Event, PolicyOverridden, Warning
from phasegate.store.contract import JournalStore


def admission_events(
    verdict: Verdict, overrides: Iterable[str], reason: str, who: str
) -> list[Event]:
    events: list[Event] = []
    why = reason.strip()
    for policy, violations in sorted(overridden(verdict, overrides).items()):
        events.append(
            PolicyOverridden(policy=policy, by=who, reason=why, violations=tuple(violations))
        )
        count = f"{len(violations)} violation{'s' if len(violations) != 1 else ''}"
        events.append(
            Warning(message=f"policy {policy} (soft) overridden by {who}: {why} ({count})")
        )
    for violation in verdict.advisory:
        events.append(Warning(message=f"policy advisory: {violation.render()}"))
    return events


def journal_admission(
    store: JournalStore,
    run_id: str,
    verdict: Verdict,
    overrides: Iterable[str],
    reason: str,
    who: str,
) -> None:
    """Append what admission let through to ``run_id``'s journal, durably (nothing when the
    plan was admitted clean)."""
    events = admission_events(verdict, overrides, reason, who)
    if events:
        now = time.time()
        store.append(store.load_state(run_id), [(e, now) for e in events], durable=True)
