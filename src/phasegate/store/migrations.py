"""Schema versions of the SQLite journal. Append a migration; never edit a shipped one."""

from __future__ import annotations

# Versions whose migration only adds tables. A verb that only reads opens a journal written
# before them as it is (it never migrates: store/connect.py) and sees those tables as empty,
# so `phasegate status` keeps reading an old journal; a verb that writes migrates it first.
# 5 replaces lane_tickets by lane_slots: a reader of a journal without it sees no tickets.
ADDITIVE: frozenset[int] = frozenset({2, 3, 4, 5})

MIGRATIONS: list[str] = [
    # 1: runs, append-only events, materialized items and phases, locks, operator requests
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        plan_name TEXT NOT NULL,
        plan_path TEXT NOT NULL,
        plan_sha256 TEXT NOT NULL,
        plan_text TEXT NOT NULL,
        lock_name TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL,
        owner_pid INTEGER,
        owner_host TEXT,
        owner_start TEXT,
        owner_since REAL,
        options TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        last_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_plan ON runs (plan_name, created_at);
    CREATE TABLE events (
        run_id TEXT NOT NULL REFERENCES runs (id),
        seq INTEGER NOT NULL,
        ts REAL NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE phases (
        run_id TEXT NOT NULL REFERENCES runs (id),
        phase TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, phase)
    ) WITHOUT ROWID;
    CREATE TABLE items (
        run_id TEXT NOT NULL REFERENCES runs (id),
        key TEXT NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (id),
        since REAL NOT NULL
    );
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (id),
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at REAL NOT NULL,
        consumed_at REAL
    );
    CREATE INDEX requests_open ON requests (run_id, consumed_at);
    """,
    # 2: schedules and the slots servers claimed for them (store/schedules.py)
    """
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        created_at REAL NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE schedule_slots (
        schedule TEXT NOT NULL REFERENCES schedules (name) ON DELETE CASCADE,
        slot INTEGER NOT NULL,
        claimed_at REAL NOT NULL,
        claimed_by TEXT NOT NULL,
        outcome TEXT NOT NULL,
        run_id TEXT,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (schedule, slot)
    ) WITHOUT ROWID;
    """,
    # 3: lanes (store/lanes.py): settings, their changes (who set what), the runs' tickets
    """
    CREATE TABLE lanes (
        name TEXT PRIMARY KEY,
        cap INTEGER,
        weight REAL NOT NULL,
        updated_at REAL,
        updated_by TEXT
    );
    CREATE TABLE lane_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        lane TEXT NOT NULL,
        cap INTEGER,
        weight REAL NOT NULL,
        previous_cap INTEGER,
        previous_weight REAL,
        changed_by TEXT NOT NULL,
        changed_at REAL NOT NULL
    );
    CREATE TABLE lane_tickets (
        run_id TEXT PRIMARY KEY,
        lane TEXT NOT NULL,
        enqueued_at REAL NOT NULL,
        granted_at REAL
    );
    CREATE INDEX lane_tickets_queue ON lane_tickets (lane, granted_at, enqueued_at, run_id);
    """,
    # 4: durations digests of finished runs (store/digests.py), read by history reads
    """
    CREATE TABLE run_digests (
        run_id TEXT PRIMARY KEY REFERENCES runs (id),
        last_seq INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    """,
    # 5: lane tickets per run and phase (a phase's `lane:`), with the run's priority and the
    #    queue order it gives (store/lanes.py); the plan-level tickets move over as they are
    """
    CREATE TABLE lane_slots (
        run_id TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT '',
        lane TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        rank REAL NOT NULL,
        enqueued_at REAL NOT NULL,
        granted_at REAL,
        PRIMARY KEY (run_id, phase)
    ) WITHOUT ROWID;
    CREATE INDEX lane_slots_queue ON lane_slots (lane, granted_at, rank, run_id, phase);
    INSERT INTO lane_slots (run_id, phase, lane, priority, rank, enqueued_at, granted_at)
        SELECT run_id, '', lane, 0, enqueued_at, enqueued_at, granted_at FROM lane_tickets;
    DROP TABLE lane_tickets;
    """,
]
