"""A run as the ``runs`` table holds it, and how a lock's holder is described."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, TypedDict

from phasegate.errors import IdempotencyConflict
from phasegate.run.events import RunStarted
from phasegate.run.record import JsonDict
from phasegate.store.process import Owner

# A run some process executes, or should: one whose owner dies is resumed by another
# (``JournalStore.abandoned``; the server's and the workers' takeover).
# (monitoring: after a successful rollout, the plan's ``monitor:`` checks run on a schedule.)
IN_FLIGHT = ("pending", "running", "rolling_back", "waiting", "monitoring", "queued")

RECORD_COLUMNS = (
    "id, plan_name, plan_path, plan_sha256, plan_text, lock_name, idempotency_key, status,"
    " created_at, updated_at, finished_at, owner_pid, owner_host, owner_start, options,"
    " summary, last_seq"
)

# A program's child run is created with the idempotency key ``program:PARENT/PHASE``
# (cli/child.py): ``last`` skips such runs, so it names what a user started (a program, not
# its newest child).
CHILD_KEY_PREFIX = "program:"


def is_child_run(idempotency_key: str | None) -> bool:
    return idempotency_key is not None and idempotency_key.startswith(CHILD_KEY_PREFIX)


class StoredOptions(TypedDict, total=False):
    """A run's options as ``create_run`` stores them (JSON, engine/session.py ``start``):
    what ``attach`` (resume, rollback), the scheduler and the views read back. Runs written by
    older releases may lack any of them."""

    overrides: dict[str, str]  # the --var values given, secret ones left out
    secret_overrides: list[str]  # the names of the secret ones (never stored)
    source_sha256: str  # the plan file's (a changed file: its secrets must be given again)
    markdown_sha256: str | None  # the Markdown runbook's it was imported from
    max_parallel: int | None
    require_checked: bool
    started_by: str  # the server's token that started it
    schedule: str  # the schedule this run is a fire of, and its slot (epoch seconds)
    slot: int
    policies: str  # the policy pack it was admitted with
    parent: dict[str, str]  # a program's child run: its parent (run, phase, plan)
    priority: int  # its place in its lanes' queues


@dataclass(frozen=True)
class RunRecord:
    id: str
    plan_name: str
    plan_path: str
    plan_sha256: str
    plan_text: str
    lock_name: str
    idempotency_key: str | None
    status: str
    created_at: float
    updated_at: float
    finished_at: float | None
    owner: Owner | None
    options: StoredOptions
    summary: JsonDict
    last_seq: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("plan_text")
        data["owner"] = asdict(self.owner) if self.owner else None
        return data


class StoredEvent(NamedTuple):
    """One journal entry as read back: ``seq`` counts from 1 per run, without gaps."""

    seq: int
    ts: float
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RunHead:
    """The few columns of a run that views poll (no plan text, no summary)."""

    id: str
    plan_name: str
    status: str
    created_at: float
    updated_at: float
    finished_at: float | None
    last_seq: int


@dataclass(frozen=True)
class StoredToken:
    """An API token as stored: never its secret, only a salted hash of it."""

    name: str
    role: str
    key_id: str  # not secret: finds the row without trying every hash
    hash: str
    created_at: float


def record_from_row(row: tuple[Any, ...]) -> RunRecord:
    owner = Owner(int(row[11]), str(row[12]), row[13]) if row[11] is not None else None
    return RunRecord(
        id=row[0],
        plan_name=row[1],
        plan_path=row[2],
        plan_sha256=row[3],
        plan_text=row[4],
        lock_name=row[5],
        idempotency_key=row[6],
        status=row[7],
        created_at=row[8],
        updated_at=row[9],
        finished_at=row[10],
        owner=owner,
        options=json.loads(row[14]),
        summary=json.loads(row[15]),
        last_seq=row[16],
    )


def replayed(key: str, run_id: str, stored_sha256: str, plan_sha256: str) -> tuple[str, bool]:
    """``create_run``'s answer when idempotency ``key`` already names run ``run_id``: that
    run, not created again; ``IdempotencyConflict`` when it was started from another plan.
    One wording for every back end."""
    if stored_sha256 != plan_sha256:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used by run {run_id} with a different plan",
            hint="use a new key for a different plan or changed variables",
        )
    return run_id, False


def request_replayed(key: str, run_id: str, stored: str, body_sha256: str) -> tuple[str, bool]:
    """``ServerLedger.run_once``'s answer for an Idempotency-Key already recorded with run
    ``run_id``: that run, not created; ``IdempotencyConflict`` when the body differs."""
    if stored != body_sha256:
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} was used for run {run_id} with another body",
            hint="use a new key for a different request",
        )
    return run_id, False


def describe_holder(name: str, holder: RunRecord, since: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
    text = f"lock {name!r} is held by run {holder.id} ({holder.status}) since {when}"
    owner = holder.owner
    if owner is None:
        return text + "; no process is executing it"
    alive = owner.alive()
    state = {True: "running", False: "dead: stale owner", None: "on another host"}[alive]
    return text + f"; process {owner.pid} on {owner.host} ({state})"


def abandoned_here(list_runs: Callable[..., list[RunRecord]]) -> list[RunRecord]:
    """``JournalStore.abandoned`` for a store whose owners can only be judged on this host
    (SQLite, memory): in-flight runs whose owner is dead here, or that were released
    unfinished (a pending run with no owner is queued, not abandoned); oldest first."""
    found = []
    for status in IN_FLIGHT:
        for record in list_runs(status=status, limit=1_000_000):
            if record.owner is None:
                if status != "pending":
                    found.append(record)
            elif record.owner.alive() is False:
                found.append(record)
    return sorted(found, key=lambda r: (r.created_at, r.id))


def started_by(record: RunRecord, events: Callable[[str], list[StoredEvent]]) -> str | None:
    """Who started a run: the server's token recorded with the run, else the user of its
    ``run.started`` entry (``events``: the store's reader, asked only when needed)."""
    recorded = record.options.get("started_by")
    if isinstance(recorded, str):
        return recorded
    for event in events(record.id):
        if event.type == RunStarted.type:
            return RunStarted.model_validate(event.data).user
    return None
