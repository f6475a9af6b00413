"""What a job carries, from the route or the request that made it to the process that acts:
the options of its action (``JobOptions``), the queued job of a ``phasegate worker``
(``QueuedJob``, server/queue.py) and the job a child reads on stdin (``StdinJob``,
server/job.py). All JSON; a queued job holds nothing secret."""

from __future__ import annotations

from typing import TypedDict


class JobOptions(TypedDict, total=False):
    """The action's options; each action reads its own."""

    retry: list[str]  # resume: the items to run again
    skip: list[str]  # resume: the items to skip
    mark_done: list[str]  # resume: the items to record as done
    reason: str  # abort: why (journalled)
    force: bool  # abort: SIGKILL the running commands at once
    grace: float | None  # abort: seconds between SIGTERM and SIGKILL (None: the default)
    full: bool  # promote: skip every canary step left
    check: str | None  # reject: the item (None: every one awaiting)
    comment: str  # reject: why not
    park_monitoring: float  # a server's worker: give a monitoring run back between checks
    park_queued: float  # a server's worker: give a run queued for a lane slot back
    # A `phasegate worker`'s scheduled resume of a parked monitoring run: the last slot
    # evaluated when it parked (server/worker_host.py); stale once the journal is past it.
    park_slot: int


class QueuedJob(TypedDict):
    """A job in the PostgreSQL queue (``queue.payload``)."""

    run_id: str
    action: str
    by: str  # the actor the journal records
    extra: JobOptions


class ChildSettings(TypedDict, total=False):
    """Where the child finds the journal, and whom it dies with."""

    store_url: str  # absent: the SQLite journal under state_dir
    die_with_parent: int  # the parent's pid: the child dies with it


class StdinJob(JobOptions, ChildSettings):
    """A job as the child ``python -m phasegate.server.job`` reads it on stdin."""

    state_dir: str
    run_id: str
    action: str
    by: str
    overrides: dict[str, str]  # variable values, secret ones included
