"""Owner fencing on PostgreSQL (store/postgres/ownership.py): a run never has two writers,
whatever happens to an owner's process or its database session, on any host.

"Another host" is simulated by an ``Owner`` whose host name is not this machine's: the store
cannot judge its pid, so only the database (the run's session lock) decides.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from phasegate.errors import OwnershipLost, RunStateError, StoreError
from phasegate.store.postgres import PostgresStore
from phasegate.store.process import Owner
from tests.store.contract.script import SCRIPT, create
from tests.store.pg_cluster import database_url

ROOT = Path(__file__).resolve().parents[2]
REMOTE = Owner(pid=4242, host=socket.gethostname() + "-elsewhere", start="1")


@pytest.fixture
def url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "db")


def _terminate(url: str, backend_pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))


def _epoch(url: str, run_id: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT owner_epoch FROM runs WHERE id = %s", (run_id,)).fetchone()
        assert row is not None
        return int(row[0])


def test_an_owner_on_another_host_is_fenced_by_its_session(url: str, tmp_path: Path) -> None:
    first = PostgresStore(url, state_dir=tmp_path / "a")
    second = PostgresStore(url, state_dir=tmp_path / "b")
    create(first, "r1", owner=REMOTE)  # the creator's session holds the run
    assert _epoch(url, "r1") == 1
    # Its pid cannot be checked from here; its session lock says it is alive.
    with pytest.raises(RunStateError, match=r"being executed by pid 4242 .*on another host"):
        second.claim("r1", Owner.me())
    assert second.abandoned() == []
    state = first.load_state("r1")
    first.append(state, [("run.started", {}, 2000.0)], durable=True)

    # Its session is cut (a lost host, an operator's pg_terminate_backend): the run is
    # abandoned, another owner claims it and the epoch moves on.
    _terminate(url, first.db.info.backend_pid)
    assert [r.id for r in second.abandoned()] == ["r1"]
    second.claim("r1", Owner.me())
    assert _epoch(url, "r1") == 2
    assert second.abandoned() == []

    # The old owner's next write is refused and stores nothing: the first finds its
    # connection gone (so its ownership: the process stops there), any later one is refused
    # as stale.
    event = [("phase.started", {"phase": "build"}, 2001.0)]
    with pytest.raises(OwnershipLost, match="this process no longer owns run r1"):
        first.append(state, event, durable=True)
    with pytest.raises(OwnershipLost, match="lost the database session"):
        first.append(state, event, durable=True)
    assert [e.type for e in second.events("r1")] == ["run.created", "run.started"]
    # ...nor can it take the run back while the new owner's session lives.
    with pytest.raises(RunStateError, match="being executed"):
        first.claim("r1", REMOTE)
    # The new owner writes on.
    fresh = second.load_state("r1")
    second.append(fresh, [("phase.started", {"phase": "build"}, 2002.0)], durable=True)
    assert second.get_run("r1").last_seq == 3
    first.close()
    second.close()


def test_a_stale_owner_is_refused_even_with_a_current_state(url: str, tmp_path: Path) -> None:
    """Continuity alone would accept a writer that re-read the journal: the epoch refuses it."""
    first = PostgresStore(url, state_dir=tmp_path / "a")
    second = PostgresStore(url, state_dir=tmp_path / "b")
    create(first, "r1", owner=REMOTE)
    _terminate(url, first.db.info.backend_pid)
    second.claim("r1", Owner.me())
    with pytest.raises(StoreError):  # the read that finds the connection gone
        first.load_state("r1")
    current = first.load_state("r1")  # reconnects, reads the newest journal
    with pytest.raises(OwnershipLost):
        first.append(current, [("run.started", {}, 2000.0)], durable=True)
    assert first.get_run("r1").last_seq == 1
    first.close()
    second.close()


def test_a_killed_owner_process_is_taken_over_at_once(url: str, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from phasegate.store.postgres import PostgresStore
        from phasegate.store.process import Owner
        store = PostgresStore({url!r}, state_dir=Path({str(tmp_path / "child")!r}))
        store.claim("r1", Owner.me())
        print("claimed", flush=True)
        time.sleep(600)
        """
    )
    store = PostgresStore(url, state_dir=tmp_path / "a")
    create(store, "r1")
    store.release("r1", owner=Owner.me())
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"claimed"
        with pytest.raises(RunStateError, match=f"executed by pid {child.pid}"):
            store.claim("r1", Owner.me())
        assert store.abandoned() == []
    finally:
        child.kill()
        child.communicate()
    store.claim("r1", Owner.me())  # its session ended with it
    assert store.get_run("r1").owner == Owner.me()
    assert _epoch(url, "r1") == 3  # created (1), the child (2), this process (3)
    store.close()


def test_claiming_again_keeps_the_epoch_and_release_frees_the_run(url: str, tmp_path: Path) -> None:
    first = PostgresStore(url, state_dir=tmp_path / "a")
    second = PostgresStore(url, state_dir=tmp_path / "b")
    create(first, "r1")
    first.claim("r1", Owner.me())
    assert _epoch(url, "r1") == 1
    first.release("r1", owner=Owner.me())
    assert first.get_run("r1").owner is None
    second.claim("r1", Owner.me())  # the lock went with the release
    assert _epoch(url, "r1") == 2
    # The first store cannot take it back while the second's session holds it.
    with pytest.raises(RunStateError, match="being executed"):
        first.claim("r1", Owner.me())
    first.close()
    second.close()


def test_the_session_that_owns_a_run_is_named_for_operators(url: str, tmp_path: Path) -> None:
    store = PostgresStore(url, state_dir=tmp_path / "a")
    create(store, "r1")
    store.release("r1", owner=Owner.me())
    store.claim("r1", Owner.me())
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'phasegate owner r1'"
        ).fetchone()
    assert row is not None and row[0] == store.db.info.backend_pid
    store.close()


def test_a_finished_run_is_never_abandoned(url: str, tmp_path: Path) -> None:
    store = PostgresStore(url, state_dir=tmp_path / "a")
    create(store, "r1", owner=REMOTE)
    state = store.load_state("r1")
    for kind, data in SCRIPT:
        store.append(state, [(kind, data, 2000.0)], durable=False)
    _terminate(url, store.db.info.backend_pid)
    other = PostgresStore(url, state_dir=tmp_path / "b")
    assert other.abandoned() == []
    store.close()
    other.close()


def test_check_finds_an_older_owner_writing_after_a_newer_one(url: str, tmp_path: Path) -> None:
    """The journal proves fencing held: each event keeps its writer's epoch, and `check`
    reports an older epoch written after a newer one (forged here, below the store)."""
    from phasegate.store.postgres.check import check_postgres

    store = PostgresStore(url, state_dir=tmp_path / "a")
    create(store, "r1")
    state = store.load_state("r1")
    store.append(state, [("run.started", {}, 2000.0)], durable=True)
    assert check_postgres(store)["ok"]
    with psycopg.connect(url, autocommit=True) as conn:
        epochs = conn.execute(
            "SELECT seq, owner_epoch FROM events WHERE run_id = 'r1' ORDER BY seq"
        ).fetchall()
        assert epochs == [(1, 1), (2, 1)]
        conn.execute("UPDATE events SET owner_epoch = 2 WHERE run_id = 'r1' AND seq = 1")
    result = check_postgres(store)
    assert not result["ok"]
    assert [v["what"] for v in result["violations"]] == [
        "event #2 was written by owner epoch 1 after epoch 2 had written: two owners wrote this run"
    ]
    store.close()
