"""A schedule's streak: how many of its newest runs passed in a row.

A schedule's runs are the runs whose options name it (``options["schedule"]``: the server's
fires and ``phasegate run --schedule NAME``, which exported systemd units use), newest first.
A run still in flight is not counted and does not break the streak; a succeeded run adds one;
any other finished status (failed, rolled back, aborted…) ends it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord

# How many of a plan's newest runs are read to find a schedule's: a streak is about recent
# nights, not the whole history.
LOOK_BACK = 500


def count(statuses: Iterable[str], terminal: Collection[str]) -> int:
    """Consecutive ``succeeded`` among ``statuses`` (newest first), skipping those in flight."""
    passes = 0
    for status in statuses:
        if status == "succeeded":
            passes += 1
        elif status in terminal:
            break
    return passes


def schedule_runs(store: JournalStore, name: str) -> list[RunRecord]:
    """The schedule's runs, newest first (None when there is no such schedule)."""
    found = store.schedule_named(name)
    if found is None:
        return []
    plan_name = found.spec.get("plan_name")
    records = store.list_runs(
        limit=LOOK_BACK, plan=plan_name if isinstance(plan_name, str) else None
    )
    return [r for r in records if r.options.get("schedule") == name]


def streak(store: JournalStore, name: str, terminal: Collection[str]) -> int | None:
    """The schedule's consecutive passes; None when there is no schedule ``name``."""
    if store.schedule_named(name) is None:
        return None
    return count((r.status for r in schedule_runs(store, name)), terminal)
