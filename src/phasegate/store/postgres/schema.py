"""Schema versions of the PostgreSQL store. Append a migration; never edit a shipped one.

The same tables as the SQLite journal (store/migrations.py) plus the server's ledger (tokens,
idempotency keys), which two servers on one database must share. Ids and names are
``COLLATE "C"``: byte order, as SQLite's BINARY, so "newest first, then by id" and prefix
matches are the same on both stores whatever the database's locale. JSON is kept as text,
exactly as written (key order included), as SQLite keeps it.

Migrating is one transaction under an advisory lock: processes opening a new database at once
wait for the first, then find it migrated; a failed migration leaves the old schema.
"""

from __future__ import annotations

from typing import Any

import psycopg

from phasegate.errors import SchemaTooNew

# pg_advisory_xact_lock keys (bigint): arbitrary, fixed, documented here only.
MIGRATE_KEY = 0x70686173_65000001  # "phase" + 1
LOCKS_KEY = 0x70686173_65000002  # held while a run's lock changes hands
LANES_KEY = 0x70686173_65000003  # held while lane slots are granted (store/postgres/lanes.py)

MIGRATIONS: list[str] = [
    # 1: runs, append-only events, materialized items and phases, locks, operator requests,
    #    and the server's tokens and idempotency keys
    """
    CREATE TABLE runs (
        id text COLLATE "C" PRIMARY KEY,
        plan_name text COLLATE "C" NOT NULL,
        plan_path text NOT NULL,
        plan_sha256 text NOT NULL,
        plan_text text NOT NULL,
        lock_name text COLLATE "C" NOT NULL,
        idempotency_key text COLLATE "C" UNIQUE,
        status text NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        finished_at double precision,
        owner_pid integer,
        owner_host text,
        owner_start text,
        owner_since double precision,
        options text NOT NULL DEFAULT '{}',
        summary text NOT NULL DEFAULT '{}',
        last_seq integer NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_plan ON runs (plan_name, created_at);
    CREATE INDEX runs_by_creation ON runs (created_at, id);
    CREATE TABLE events (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
        seq integer NOT NULL,
        ts double precision NOT NULL,
        type text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE phases (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
        phase text COLLATE "C" NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (run_id, phase)
    );
    CREATE TABLE items (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
        key text COLLATE "C" NOT NULL,
        status text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE locks (
        name text COLLATE "C" PRIMARY KEY,
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
        since double precision NOT NULL
    );
    CREATE TABLE requests (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
        kind text NOT NULL,
        data text NOT NULL,
        created_at double precision NOT NULL,
        consumed_at double precision
    );
    CREATE INDEX requests_open ON requests (run_id, consumed_at);
    CREATE TABLE tokens (
        name text COLLATE "C" PRIMARY KEY,
        role text NOT NULL,
        key_id text COLLATE "C" NOT NULL UNIQUE,
        hash text NOT NULL,
        created_at double precision NOT NULL
    );
    CREATE TABLE idempotency (
        created_by text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        body_sha256 text NOT NULL,
        run_id text NOT NULL,
        created_at double precision NOT NULL,
        PRIMARY KEY (created_by, key)
    )
    """,
    # 2: owner fencing (store/postgres/ownership.py): each claim of a run increments its
    #    owner epoch; every journal write checks the writer's epoch is still the run's, and
    #    each event keeps the epoch of the owner that wrote it (NULL: written by a process
    #    that does not own the run, e.g. a server recording an approval), so `phasegate
    #    check` can prove no older owner wrote after a newer one claimed
    """
    ALTER TABLE runs ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN owner_epoch bigint
    """,
    # 3: step logs, chunked (store/postgres/logs.py). No foreign key to runs: its check
    #    would lock the run's row against the journal's `FOR UPDATE` on every flush, and runs
    #    are never deleted.
    """
    CREATE TABLE log_chunks (
        run_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        start bigint NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (run_id, key, start)
    )
    """,
    # 4: schedules and the slots servers claimed for them (store/postgres/schedules.py)
    """
    CREATE TABLE schedules (
        name text COLLATE "C" PRIMARY KEY,
        spec text NOT NULL,
        created_at double precision NOT NULL,
        created_by text NOT NULL
    );
    CREATE TABLE schedule_slots (
        schedule text COLLATE "C" NOT NULL REFERENCES schedules (name) ON DELETE CASCADE,
        slot bigint NOT NULL,
        claimed_at double precision NOT NULL,
        claimed_by text NOT NULL,
        outcome text NOT NULL,
        run_id text,
        note text NOT NULL DEFAULT '',
        PRIMARY KEY (schedule, slot)
    )
    """,
    # 5: lanes (store/lanes.py): settings, their changes (who set what), the runs' tickets
    """
    CREATE TABLE lanes (
        name text COLLATE "C" PRIMARY KEY,
        cap integer,
        weight double precision NOT NULL,
        updated_at double precision,
        updated_by text
    );
    CREATE TABLE lane_changes (
        id bigserial PRIMARY KEY,
        lane text COLLATE "C" NOT NULL,
        cap integer,
        weight double precision NOT NULL,
        previous_cap integer,
        previous_weight double precision,
        changed_by text NOT NULL,
        changed_at double precision NOT NULL
    );
    CREATE TABLE lane_tickets (
        run_id text COLLATE "C" PRIMARY KEY,
        lane text COLLATE "C" NOT NULL,
        enqueued_at double precision NOT NULL,
        granted_at double precision
    );
    CREATE INDEX lane_tickets_queue ON lane_tickets (lane, granted_at, enqueued_at, run_id)
    """,
    # 6: durations digests of finished runs (store/digests.py), read by history reads
    """
    CREATE TABLE run_digests (
        run_id text COLLATE "C" PRIMARY KEY REFERENCES runs (id),
        last_seq bigint NOT NULL,
        data text NOT NULL
    )
    """,
    # 7: lane tickets per run and phase (a phase's `lane:`), with the run's priority and the
    #    queue order it gives (store/lanes.py); the plan-level tickets move over as they are
    """
    CREATE TABLE lane_slots (
        run_id text COLLATE "C" NOT NULL,
        phase text COLLATE "C" NOT NULL DEFAULT '',
        lane text COLLATE "C" NOT NULL,
        priority integer NOT NULL DEFAULT 0,
        rank double precision NOT NULL,
        enqueued_at double precision NOT NULL,
        granted_at double precision,
        PRIMARY KEY (run_id, phase)
    );
    CREATE INDEX lane_slots_queue ON lane_slots (lane, granted_at, rank, run_id, phase);
    INSERT INTO lane_slots (run_id, phase, lane, priority, rank, enqueued_at, granted_at)
        SELECT run_id, '', lane, 0, enqueued_at, enqueued_at, granted_at FROM lane_tickets;
    DROP TABLE lane_tickets
    """,
]


def schema_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The version the database is at; 0 for a database phasegate never opened."""
    found = conn.execute("SELECT to_regclass('phasegate_meta')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT value FROM phasegate_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[tuple[Any, ...]], where: str) -> int:
    """Bring the schema to the newest version; returns it. Opening an up-to-date database
    reads one row and writes nothing."""
    version = schema_version(conn)
    if version > len(MIGRATIONS):
        raise too_new(where, version)
    if version == len(MIGRATIONS):
        return version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS phasegate_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        version = schema_version(conn)  # again, under the lock: another process may have run
        if version > len(MIGRATIONS):
            raise too_new(where, version)
        for number in range(version, len(MIGRATIONS)):
            conn.execute(MIGRATIONS[number].encode())
        conn.execute(
            "INSERT INTO phasegate_meta VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(len(MIGRATIONS)),),
        )
    return len(MIGRATIONS)


def too_new(where: str, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"the PostgreSQL store {where} has schema {version}; this phasegate knows up to "
        f"{len(MIGRATIONS)}",
        hint="upgrade phasegate",
    )
