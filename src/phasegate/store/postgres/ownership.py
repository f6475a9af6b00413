"""Who may write a run, decided by PostgreSQL itself (issue 12 §4).

Two fences, both in the database every owner talks to, so they hold between processes on any
number of machines:

1. **A session advisory lock per run** (``pg_try_advisory_lock(run_key(id))``), taken by the
   claiming connection and held until it releases the run or its session ends. A process that
   dies (``kill -9``, an OOM, a lost host once TCP keepalives give up, a
   ``pg_terminate_backend``) ends its session, and the lock is free: that is how another worker
   knows, from any host, that a run lost its owner. While the lock is held nobody else can
   claim the run.
2. **An owner epoch** (``runs.owner_epoch``), incremented by each claim that changes the owner.
   A claiming store remembers the epoch it set; every journal write locks the run's row and
   compares. A stale owner (its session was cut and another worker claimed the run meanwhile,
   or its connection was re-opened and so lost the lock) has its write refused
   (``OwnershipLost``) and stops: a run never has two writers, even when a queue delivers a
   job twice.

A lost session is noticed by the database when the client's socket closes (a killed process:
at once) or, for a vanished host, when TCP keepalives fail: every store connection asks the
server to probe an idle client after ``KEEPALIVE_IDLE`` seconds, every ``KEEPALIVE_INTERVAL``,
``KEEPALIVE_COUNT`` times (about 10 s), which bounds the takeover after a host loss.
"""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg

KEEPALIVE_IDLE = 4  # seconds
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3

# The options every store connection sends: the server probes the client, so a session of a
# vanished host ends (and its run locks are freed) within about 10 s.
SESSION_OPTIONS = (
    f"-c tcp_keepalives_idle={KEEPALIVE_IDLE} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL}"
    f" -c tcp_keepalives_count={KEEPALIVE_COUNT}"
)


def run_key(run_id: str) -> int:
    """The run's advisory-lock key: 64 bits of SHA-256, signed (PostgreSQL's bigint). Two run
    ids share a key with probability 2**-64; the worst case is a claim refused while the other
    run is owned, never two owners."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big", signed=True)


def lock_parts(key: int) -> tuple[int, int]:
    """How ``pg_locks`` shows a bigint advisory key: (classid, objid), its high and low
    32 bits, unsigned (with ``objsubid`` 1)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def held_keys(db: psycopg.Connection[tuple[Any, ...]]) -> set[tuple[int, int]]:
    """The (classid, objid) of every bigint advisory lock some session of this database holds
    now (granted, not merely waited for)."""
    rows = db.execute(
        b"SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
        b" AND objsubid = 1 AND granted AND database ="
        b" (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchall()
    return {(int(row[0]), int(row[1])) for row in rows}
