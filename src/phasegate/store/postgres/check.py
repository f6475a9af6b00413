"""``phasegate check`` on a PostgreSQL store: the journal's own invariants, in one
``REPEATABLE READ`` snapshot (a run committing meanwhile is seen wholly or not at all).

What it checks, as on SQLite (store/invariants.py): every event's data is a JSON object,
events are numbered 1..n without gaps, each is a legal transition of the state machine, the
materialized rows (status, summary, phases, items) equal the replay, and locks point at
unfinished runs. Besides, PostgreSQL only: the owner epochs of a run's events never go back
(store/postgres/ownership.py): no owner wrote after a newer one had claimed the run.

What it does not: SQLite's ``integrity_check`` of the file's pages has no
counterpart here; the server guards its own pages (enable data checksums, run
``pg_amcheck``), and text is always valid UTF-8 in a UTF8 database. The result says so in
``integrity_check``.
"""

from __future__ import annotations

from phasegate.errors import StoreError
from phasegate.store.invariants import (
    CheckReport,
    check_lane_tickets,
    check_lock_rows,
    compare,
    replay_checked,
)
from phasegate.store.postgres.store import PostgresStore

NOT_CHECKED = (
    "not run on PostgreSQL: the server guards its own pages (data checksums, pg_amcheck); "
    "this check covers the journal's rows"
)


def check_postgres(store: PostgresStore) -> CheckReport:
    violations: list[dict[str, str]] = []
    counts = {"runs": 0, "events": 0}
    with store.snapshot():
        try:
            for run_id in store.run_ids():
                counts["runs"] += 1
                try:
                    events = store.events(run_id)
                except StoreError as exc:  # a row that is not JSON: JournalDamaged
                    violations.append({"run": run_id, "what": exc.message})
                    continue
                counts["events"] += len(events)
                bad = [e.seq for e in events if not isinstance(e.data, dict)]
                if bad:
                    violations.append(
                        {
                            "run": run_id,
                            "what": f"event #{bad[0]} has data that is not a JSON object",
                        }
                    )
                    continue
                state = replay_checked(run_id, list(events), violations)
                if state is not None:
                    try:
                        compare(store, run_id, state, violations)
                    except StoreError as exc:
                        violations.append({"run": run_id, "what": exc.message})
            for run_id, seq, before, after in store.epoch_regressions():
                violations.append(
                    {
                        "run": run_id,
                        "what": f"event #{seq} was written by owner epoch {after} after "
                        f"epoch {before} had written: two owners wrote this run",
                    }
                )
            check_lock_rows(store, store.locks(), violations)
            check_lane_tickets(store, store.lane_tickets(), violations)
        except StoreError as exc:
            violations.append({"run": "-", "what": exc.message})
    return {
        "ok": not violations,
        "runs": counts["runs"],
        "events": counts["events"],
        "schema_version": store.schema_version,
        "integrity_check": [NOT_CHECKED],
        "violations": violations,
    }
