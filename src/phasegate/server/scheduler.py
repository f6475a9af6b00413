"""The scheduler thread of ``phasegate serve``: fires the store's schedules (issue 13 §2).

Every ``TICK`` seconds it reads the schedules (one query) and, for each whose next slot has
come, asks ``schedules.due`` what to do, claims the slot in the store and acts: a fire is an
ordinary run started exactly as ``POST /api/v1/runs`` starts one (``WorkerPool.start_run``),
with ``started_by: schedule:NAME`` and the schedule and slot in its options. Between slots a
schedule costs nothing but a comparison.

Exactly one run per slot with several servers on one store: every server computes the same
slot, ``claim_slot`` lets one of them through, and the run's idempotency key
(``schedule:NAME:SLOT``) would turn a second start into a replay besides. A server that dies
after claiming a slot and before starting its run leaves the slot ``claimed``, with no run:
at most once, never twice (the slot's row shows it in ``schedule history``). A run whose
worker dies is resumed by any server's orphan monitor (workers.py), like every server run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from phasegate.engine import session
from phasegate.errors import LockHeld, PhasegateError
from phasegate.plan.loader import load_plan
from phasegate.schedules import Rule, due, local, rule_from_spec, stored_spec
from phasegate.server.config import ServerConfig
from phasegate.server.workers import WorkerPool
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from phasegate.store.schedules import ERROR, FIRED, MISSED, SKIPPED, ScheduleRecord

log = logging.getLogger("phasegate.server.scheduler")

TICK = 0.25
# How often the schedules themselves are read again (an added or removed one is noticed within
# this); between reads a tick only compares the clock with each schedule's next slot. A claim
# for a schedule removed meanwhile is refused by the store.
REFRESH = 1.0


@dataclass
class _Known:
    """What this server remembers of a schedule between ticks."""

    created_at: float
    rule: Rule | None  # None: the stored spec does not parse (logged once)
    anchor: float  # the newest slot handled (by any server), else the schedule's creation
    next_check: float = 0.0


class Scheduler:
    def __init__(self, config: ServerConfig, pool: WorkerPool, *, tick: float = TICK) -> None:
        self.config = config
        self.pool = pool
        self.tick_seconds = tick
        self._known: dict[str, _Known] = {}
        self._records: list[ScheduleRecord] = []
        self._read_at = -math.inf
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        owner = Owner.me()
        self.me = f"{owner.host}:{owner.pid}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="phasegate-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        store: JournalStore | None = None
        try:
            while not self._halt.wait(self.tick_seconds):
                try:
                    if store is None:
                        store = open_journal(self.config.state_dir, url=self.config.store_url)
                    self.tick(store, time.time())
                except Exception:  # a scheduler must go on: log, never die
                    log.exception("scheduler: cannot look at the schedules")
        finally:
            if store is not None:
                store.close()

    # -- one tick ---------------------------------------------------------------------------
    def tick(self, store: JournalStore, now: float) -> None:
        if not now - REFRESH < self._read_at <= now:
            self._records, self._read_at = store.schedules(), now
        records = self._records
        for record in records:
            known = self._known.get(record.name)
            if known is None or known.created_at != record.created_at:
                known = self._learn(store, record)
                self._known[record.name] = known
            if known.rule is None or now < known.next_check:
                continue
            self._consider(store, record, known, now)
            known.next_check = known.rule.next_after(now)
        for name in set(self._known) - {r.name for r in records}:
            del self._known[name]  # removed

    def _learn(self, store: JournalStore, record: ScheduleRecord) -> _Known:
        newest = store.slots(record.name, limit=1)
        anchor = max(record.created_at, float(newest[0].slot) if newest else -math.inf)
        try:
            rule: Rule | None = rule_from_spec(stored_spec(record.spec))
        except (PhasegateError, KeyError, TypeError) as exc:
            log.error(
                "schedule %s: its stored rule does not parse (%s); not fired", record.name, exc
            )
            rule = None
        return _Known(record.created_at, rule, anchor)

    def _consider(
        self, store: JournalStore, record: ScheduleRecord, known: _Known, now: float
    ) -> None:
        assert known.rule is not None
        missed = str(record.spec.get("missed", "skip"))
        decision = due(known.rule, anchor=known.anchor, now=now, missed=missed)
        if decision.slot is None:
            return
        claimed = store.claim_slot(record.name, decision.slot, by=self.me, ts=now)
        # Handled either way (by this server or another); a claim that raised is tried again
        # at the next tick, the anchor unmoved.
        known.anchor = decision.slot
        if not claimed:
            return  # another server has it
        when = local(decision.slot, known.rule.timezone)
        if not decision.fire:
            note = f"due at {when}, {now - decision.slot:.0f}s before any server looked"
            store.record_slot(record.name, decision.slot, outcome=MISSED, note=note)
            log.warning("schedule %s: slot %s missed (missed: skip)", record.name, when)
            return
        notes = []
        if decision.catch_up:
            notes.append("catch-up for missed slots (missed: catch-up-one)")
        elif decision.missed_before:
            notes.append("earlier slots were missed")
        outcome, run_id = self._fire(store, record, decision.slot, notes)
        store.record_slot(
            record.name, decision.slot, outcome=outcome, run_id=run_id, note="; ".join(notes)
        )

    def _fire(
        self, store: JournalStore, record: ScheduleRecord, slot: int, notes: list[str]
    ) -> tuple[str, str | None]:
        name = record.name
        options = session.RunOptions(
            overrides=dict(stored_spec(record.spec).get("vars") or {}),
            idempotency_key=f"schedule:{name}:{slot}",
            started_by=f"schedule:{name}",
            schedule=name,
            slot=slot,
        )
        try:
            loaded = load_plan(str(record.spec["plan"]))
            run_id, _ = self.pool.start_run(store, loaded, options)
        except LockHeld as exc:
            notes.append(f"not run: {exc.message}")
            log.warning("schedule %s: slot skipped: %s", name, exc.message)
            return SKIPPED, None
        except PhasegateError as exc:
            notes.append(f"not run: {exc.render()}")
            log.error("schedule %s: cannot start its run: %s", name, exc.render())
            return ERROR, None
        log.info("schedule %s: started run %s", name, run_id)
        return FIRED, run_id
