"""``phasegate store copy``: every run of one store, with all its events, into another
(SQLite → PostgreSQL, or any pair), through the store contract alone.

Each run is re-created with its own id, plan, options, idempotency key and creation time
(``create_run``: its ``run.created`` event), then its other events are folded and committed
exactly as its owner once committed them (``fold`` + ``commit_applied``), so the destination
keeps the same seqs, times and data, and its materialized rows are those of the replay. Pending
operator requests are queued again. A run's owner is copied as it is (a dead owner stays dead:
``resume`` on the destination takes the run over; a live one keeps it until it exits), so
``status`` shows the same on both stores.

Durations digests (store/digests.py) are copied as the source keeps them, for each finished
run whose digest is fresh there (saved at the run's ``last_seq``): the destination holds the
same events, so the same ``last_seq``, and its history reads need no journal either. The store
never interprets a digest; ``phasegate check`` verifies each against its journal on either side.

Verified, not assumed: once written, every run of the source is compared on both sides part
by part — record, events, step outputs, step logs, durations digest (store/copy_verify.py);
a run that differs is marked in the destination (a ``warning`` event saying what differs,
which also makes a later copy refuse it as a conflict) and the copy fails naming it.

Idempotent: a run the destination already holds with the same record and the same events is
left alone; one whose journal is a prefix of the source's (a copy cut short, or a run that went
on since the last copy) gets the missing events. Any other run with the same id, or an
idempotency key the destination gave to another run, is a conflict: the copy checks every run
first and, on a conflict, copies nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from phasegate.errors import PhasegateError, StoreError
from phasegate.run.events import RunCreated, Warning
from phasegate.run.record import JsonDict
from phasegate.store.contract import JournalStore
from phasegate.store.copy_verify import compare
from phasegate.store.fold import EventRow, fold
from phasegate.store.process import Owner
from phasegate.store.records import RunRecord, StoredEvent

# The record fields a copy must keep; status, times and summary follow from the events.
_SAME = ("plan_name", "plan_path", "plan_sha256", "plan_text", "lock_name", "idempotency_key")


@dataclass
class CopyResult:
    copied: list[str] = field(default_factory=list)  # created in the destination
    continued: list[str] = field(default_factory=list)  # missing events appended
    unchanged: list[str] = field(default_factory=list)  # already identical
    events: int = 0  # events written
    log_bytes: int = 0  # step log bytes written
    schedules: list[str] = field(default_factory=list)  # schedules created in the destination
    slots: int = 0  # schedule slots written (claims and what became of them)
    lanes: list[str] = field(default_factory=list)  # lanes whose settings were written
    digests: int = 0  # durations digests written (fresh in the source, not yet in the copy)

    def as_dict(self) -> dict[str, object]:
        return {
            "copied": self.copied,
            "continued": self.continued,
            "unchanged": self.unchanged,
            "events": self.events,
            "log_bytes": self.log_bytes,
            "schedules": self.schedules,
            "slots": self.slots,
            "lanes": self.lanes,
            "digests": self.digests,
        }


def _conflict(src: RunRecord, source: list[StoredEvent], dst: JournalStore) -> str | None:
    """Why the destination's run ``src.id`` cannot become the source's, or None."""
    there = dst.run_head(src.id)
    if there is None:
        if src.idempotency_key is not None:
            for other in dst.list_runs(limit=1_000_000):
                if other.idempotency_key == src.idempotency_key and other.id != src.id:
                    return f"its idempotency key is run {other.id}'s in the destination"
        return None
    record = dst.get_run(src.id)
    for name in _SAME:
        if getattr(record, name) != getattr(src, name):
            return f"the destination's run {src.id} has another {name.replace('_', ' ')}"
    if record.created_at != src.created_at or record.options != src.options:
        return f"the destination's run {src.id} has another creation time or options"
    held = dst.events(src.id)
    if held != source[: len(held)]:
        return (
            f"the destination's run {src.id} has other events (from #{_first_diff(held, source)})"
        )
    return None


def _first_diff(held: list[StoredEvent], source: list[StoredEvent]) -> int:
    for index, (a, b) in enumerate(zip(held, source, strict=False), start=1):
        if a != b:
            return index
    return min(len(held), len(source)) + 1


def copy_journal(src: JournalStore, dst: JournalStore) -> CopyResult:
    """Copy every run of ``src`` into ``dst`` (oldest first); raises ``StoreError`` naming
    the conflicts, having copied nothing, when a run cannot be copied."""
    runs = [(src.get_run(run_id), src.events(run_id)) for run_id in src.run_ids()]
    conflicts = [
        f"run {record.id}: {why}"
        for record, events in runs
        if (why := _conflict(record, events, dst)) is not None
    ]
    conflicts += _schedule_conflicts(src, dst)
    conflicts += _lane_conflicts(src, dst)
    if conflicts:
        shown = "; ".join(conflicts[:5]) + (
            f"; and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        )
        raise StoreError(
            f"cannot copy {len(conflicts)} of {len(runs)} runs: {shown}; nothing was copied",
            hint="copy into an empty store, or remove those runs from the destination",
        )
    result = CopyResult()
    me = Owner.me()
    for record, events in runs:
        if not events or events[0].type != "run.created":
            raise StoreError(
                f"run {record.id} in the source has no run.created event; run "
                "`phasegate check` on it"
            )
        fresh = dst.run_head(record.id) is None
        if fresh:
            created = events[0].data
            dst.create_run(
                run_id=record.id,
                plan_name=record.plan_name,
                plan_path=record.plan_path,
                plan_sha256=record.plan_sha256,
                plan_text=record.plan_text,
                lock_name=record.lock_name,
                idempotency_key=record.idempotency_key,
                options=record.options,
                phases=list(created.get("phases") or []),
                needs=created.get("needs"),
                outline=RunCreated.model_validate(created).outline,
                owner=record.owner or me,
                ts=record.created_at,
            )
            result.events += 1
        state = dst.load_state(record.id)
        rest = events[state.seq :]
        if rest:
            rows: list[EventRow] = []
            changed = fold(state, [(e.type, e.data, e.ts) for e in rest], rows)
            dst.commit_applied(state, rows, changed, durable=True)
            result.events += len(rest)
        if dst.events(record.id) != events:  # verified, not assumed
            raise StoreError(
                f"run {record.id}: the copy's journal differs from the source's (from event "
                f"#{_first_diff(dst.events(record.id), events)}); the runs before it were "
                "copied",
                hint="run `phasegate check` on both stores and report this as a bug",
            )
        result.log_bytes += _copy_logs(src, dst, record.id)
        if fresh:
            if record.owner is None:
                dst.release(record.id, owner=me)
            for _, kind, data in src.take_requests(record.id):
                dst.add_request(record.id, kind, data)
            result.copied.append(record.id)
        elif rest:
            result.continued.append(record.id)
        else:
            result.unchanged.append(record.id)
    _copy_schedules(src, dst, result)
    _copy_lanes(src, dst, result)
    _copy_digests(src, dst, result)
    _verify(src, dst, [record.id for record, _ in runs])
    return result


MARK = "store copy: this run's copy differs from its source"


def _verify(src: JournalStore, dst: JournalStore, run_ids: list[str]) -> None:
    """Every run of the source compared on both sides, part by part (store/copy_verify.py).
    A run whose journal, outputs or logs differ is marked in the destination: a ``warning``
    event (in its status, report and dashboard) saying what differs; its journal then
    differs from the source's, so a later copy refuses it as a conflict instead of taking it
    for copied. A durations digest that differs alone is not marked (a digest is a cache of
    the journal, which is equal: ``phasegate check --repair-digests`` recomputes it). Then
    the copy fails naming each run that differs."""
    mismatches = compare(src, dst, run_ids)
    if not mismatches:
        return
    marked, unmarked = [], []
    for found in mismatches:
        parts = [p for p in found.parts if p not in ("missing", "digest")]
        if not parts:
            continue
        message = f"{MARK} ({', '.join(parts)}); do not trust it here"
        try:
            state = dst.load_state(found.run_id)
            dst.append(state, [(Warning(message=message), time.time())], durable=True)
            marked.append(found.run_id)
        except PhasegateError:
            unmarked.append(found.run_id)
    shown = "; ".join(m.words() for m in mismatches[:5]) + (
        f"; and {len(mismatches) - 5} more" if len(mismatches) > 5 else ""
    )
    said = f"; marked in the destination with a warning: {', '.join(marked)}" if marked else ""
    if unmarked:
        said += f"; could not be marked: {', '.join(unmarked)}"
    raise StoreError(
        f"the copy of {len(mismatches)} of {len(run_ids)} runs differs from the source after "
        f"copying: {shown}{said}",
        hint="the destination stores something other than what it was given: run "
        "`phasegate check` on it (a digest alone: `phasegate check --repair-digests`, then "
        "copy again); a marked run is a conflict for later copies: copy into a fresh store",
    )


DIGEST_PAGE = 2_000  # finished runs per read, as the history read pages them


def _fresh_digests(store: JournalStore, plan: str) -> dict[str, tuple[int, JsonDict]]:
    """Each finished run of ``plan`` with a fresh digest: ``run id -> (last_seq, digest)``."""
    found: dict[str, tuple[int, JsonDict]] = {}
    before: tuple[float, str] | None = None
    while True:
        rows = store.finished_runs(plan, limit=DIGEST_PAGE, before=before)
        for row in rows:
            if row.digest is not None:
                found[row.run_id] = (row.last_seq, row.digest)
        if len(rows) < DIGEST_PAGE:
            return found
        before = (rows[-1].created_at, rows[-1].run_id)


def _copy_digests(src: JournalStore, dst: JournalStore, result: CopyResult) -> None:
    """The source's fresh durations digests the destination lacks. One the destination holds
    already is left as it is, even when it differs (the journals are equal, so one digest is
    wrong: `phasegate check` on each store says which, `--repair-digests` recomputes it)."""
    for plan in sorted({head.plan_name for head in src.run_heads()}):
        there = _fresh_digests(dst, plan)
        missing = [
            (run_id, seq, digest)
            for run_id, (seq, digest) in sorted(_fresh_digests(src, plan).items())
            if run_id not in there
        ]
        if missing:
            dst.save_digests(missing)
            result.digests += len(missing)


def _history(store: JournalStore, lane: str) -> list[tuple[object, ...]]:
    """A lane's changes, oldest first, as comparable tuples."""
    return [
        (c.cap, c.weight, c.by, c.at)
        for c in reversed(store.lane_changes(lane=lane, limit=1_000_000))
    ]


def _lane_conflicts(src: JournalStore, dst: JournalStore) -> list[str]:
    """Lanes the destination set otherwise: its history is not the start of the source's."""
    there = {lane.name for lane in dst.lanes()}
    found = []
    for lane in src.lanes():
        if lane.name not in there:
            continue
        held, source = _history(dst, lane.name), _history(src, lane.name)
        if held != source[: len(held)]:
            found.append(f"lane {lane.name}: the destination's settings have another history")
    return found


def _copy_lanes(src: JournalStore, dst: JournalStore, result: CopyResult) -> None:
    """Each lane's settings with their history (who set what, when), oldest first: what the
    destination lacks at the end of it (a lane the source changed since the last copy gets
    the later changes). Tickets are not copied: a queued or granted run asks its lane again
    when it is resumed on the destination."""
    for lane in src.lanes():
        changes = list(reversed(src.lane_changes(lane=lane.name, limit=1_000_000)))
        held = len(_history(dst, lane.name))
        for change in changes[held:]:
            dst.set_lane(
                change.lane, cap=change.cap, weight=change.weight, by=change.by, ts=change.at
            )
        if changes[held:]:
            result.lanes.append(lane.name)


def _schedule_conflicts(src: JournalStore, dst: JournalStore) -> list[str]:
    """Schedules the destination holds under the same name with another definition."""
    found = []
    for schedule in src.schedules():
        there = dst.schedule_named(schedule.name)
        if there is not None and there.spec != schedule.spec:
            found.append(f"schedule {schedule.name}: the destination's has another definition")
    return found


def _copy_schedules(src: JournalStore, dst: JournalStore, result: CopyResult) -> None:
    """Every schedule and its claimed slots, oldest slot first, with who claimed each and
    when, and what it became: the streak and `schedule history` read the same on both
    stores, and a slot fired on the source is never fired again on the destination."""
    for schedule in src.schedules():
        if dst.add_schedule(schedule):
            result.schedules.append(schedule.name)
        held = {s.slot: s for s in dst.slots(schedule.name, limit=1_000_000)}
        for slot in reversed(src.slots(schedule.name, limit=1_000_000)):
            there = held.get(slot.slot)
            if there is None:
                dst.claim_slot(schedule.name, slot.slot, by=slot.claimed_by, ts=slot.claimed_at)
            elif there.outcome != "claimed" or slot.outcome == "claimed":
                continue  # the destination already knows what became of it
            if slot.outcome != "claimed":
                dst.record_slot(
                    schedule.name,
                    slot.slot,
                    outcome=slot.outcome,
                    run_id=slot.run_id,
                    note=slot.note,
                )
            result.slots += 1


def _copy_logs(src: JournalStore, dst: JournalStore, run_id: str) -> int:
    """The step logs of every item and monitor of the run: what the destination lacks at the
    end of each log (a copy cut short continues where it stopped; a complete one writes
    nothing)."""
    state = src.load_state(run_id)
    written = 0
    for key in sorted({*state.items, *state.monitors}):
        source = src.read_log(run_id, key)
        held = dst.read_log(run_id, key, -1).end
        if len(source.data) > held:
            dst.append_logs(run_id, [(key, source.data[held:])])
            written += len(source.data) - held
    return written
