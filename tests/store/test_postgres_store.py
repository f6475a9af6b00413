"""What only the PostgreSQL store has: a connection the server cuts, its schema versions, a
fresh database opened by many processes at once, and URLs whose password never shows. The
session's real PostgreSQL (tests/store/pg_cluster.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from phasegate.errors import (
    JournalWriteFailed,
    SchemaTooNew,
    StoreError,
    UsageError,
)
from phasegate.store.postgres import PostgresStore, mask
from phasegate.store.postgres.connection import normalize
from phasegate.store.postgres.schema import MIGRATIONS
from phasegate.store.process import Owner
from tests.store.contract.script import create
from tests.store.pg_cluster import database_url


@pytest.fixture
def url(postgres_server: str, tmp_path: Path) -> str:
    return database_url(tmp_path / "db")


def _empty_database(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return admin.rsplit("/", 1)[0] + "/" + name


def test_a_cut_connection_stops_the_write_and_the_next_call_reconnects(
    url: str, tmp_path: Path
) -> None:
    store = PostgresStore(url, state_dir=tmp_path / "state")
    create(store, "r1")
    store.release("r1", owner=Owner.me())
    state = store.load_state("r1")
    pid = store.db.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(JournalWriteFailed, match="the run stops at its last durable event"):
        store.append(state, [("run.started", {}, 2000.0)], durable=True)
    # Nothing was stored; the store reconnects by itself and the writer continues (it does
    # not own the run: an owner's lost session is a lost run, test_postgres_ownership.py).
    assert [e.type for e in store.events("r1")] == ["run.created"]
    assert store.db.info.backend_pid != pid
    state = store.load_state("r1")
    store.append(state, [("run.started", {}, 2001.0)], durable=True)
    assert store.get_run("r1").status == "running"
    store.close()


def test_a_database_of_a_newer_phasegate_is_refused(url: str, tmp_path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE phasegate_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(
        SchemaTooNew, match=f"has schema 99; this phasegate knows up to {len(MIGRATIONS)}"
    ):
        PostgresStore(url, state_dir=tmp_path / "state")


def test_processes_opening_a_new_database_at_once_migrate_it_once(
    postgres_server: str, tmp_path: Path
) -> None:
    url = _empty_database(postgres_server, "fresh_" + str(abs(hash(tmp_path)) % 10**9))
    versions: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_store() -> None:
        start.wait()
        try:
            store = PostgresStore(url, state_dir=tmp_path / "state")
            versions.append(store.schema_version)
            store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and versions == [len(MIGRATIONS)] * 6
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    # every migration's tables (less those a later one replaced: lane_tickets -> lane_slots)
    # and phasegate_meta, once
    created = sum(migration.count("CREATE TABLE") for migration in MIGRATIONS)
    dropped = sum(migration.count("DROP TABLE") for migration in MIGRATIONS)
    assert tables is not None and tables[0] == created - dropped + 1


def test_a_read_only_store_refuses_writes(url: str, tmp_path: Path) -> None:
    store = PostgresStore(url, state_dir=tmp_path / "state", readonly=True)
    with pytest.raises(StoreError, match="opened read-only"):
        create(store, "r1")
    assert store.run_ids() == []
    store.close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://deploy:hunter2@db:5432/pg", "postgresql://deploy:***@db:5432/pg"),
        ("postgres://deploy@db/pg?password=hunter2&sslmode=require", "password=%2A%2A%2A"),
        ("postgresql://db/pg", "postgresql://db/pg"),
    ],
)
def test_passwords_are_masked(url: str, shown: str) -> None:
    assert shown in mask(url) and "hunter2" not in mask(url)


def test_a_bad_url_names_the_field_and_hides_the_password() -> None:
    with pytest.raises(UsageError) as caught:
        normalize("postgresql://deploy:hunter2@db:99999/pg", field="$PHASEGATE_STORE")
    assert caught.value.message.startswith("$PHASEGATE_STORE: 'postgresql://deploy:***@db:99999")
    assert "hunter2" not in caught.value.render()
    with pytest.raises(UsageError, match="is not a PostgreSQL URL"):
        normalize("mysql://deploy:hunter2@db/pg")
    assert normalize("postgresql+psycopg://db/pg") == "postgresql://db/pg"
