"""One contract suite, every store: each test runs once per back end in ``BACKENDS``.

PostgreSQL is real: the session's server (tests/store/pg_cluster.py), one fresh database per
state directory, so a child process given the same directory opens the same journal.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phasegate.store.contract import JournalStore
from phasegate.store.memory import MemoryStore
from phasegate.store.postgres import PostgresStore
from phasegate.store.process import Owner, proc_stat
from phasegate.store.sqlite import SqliteStore
from tests.store.pg_cluster import database_url

MakeStore = Callable[[Path], JournalStore]


def postgres_store(state_dir: Path) -> PostgresStore:
    return PostgresStore(database_url(state_dir), state_dir=state_dir)


BACKENDS: dict[str, MakeStore] = {
    "memory": MemoryStore,
    "postgres": postgres_store,
    "sqlite": SqliteStore,
}


# Back ends whose journal several processes share (the memory store lives in one process).
SHARED = ["postgres", "sqlite"]


@pytest.fixture(autouse=True)
def _postgres(request: pytest.FixtureRequest) -> None:
    """The session's PostgreSQL for a test of the postgres back end, or of every back end
    (no parameter): a test of memory or SQLite alone runs without it."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or "postgres" in callspec.params.values():
        request.getfixturevalue("postgres_server")


@pytest.fixture(params=sorted(BACKENDS))
def make_store(request: pytest.FixtureRequest) -> MakeStore:
    factory: MakeStore = BACKENDS[request.param]
    return factory


@pytest.fixture
def store(make_store: MakeStore, tmp_path: Path) -> Iterator[JournalStore]:
    opened = make_store(tmp_path / "state")
    yield opened
    opened.close()


def owner_of(proc: subprocess.Popen[bytes]) -> Owner:
    stat = proc_stat(proc.pid)
    assert stat is not None
    return Owner(proc.pid, Owner.me().host, stat.start)


@pytest.fixture(scope="module")
def live_owner() -> Iterator[Owner]:
    """Another process on this host that is alive for the whole module."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield owner_of(proc)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def dead_owner() -> Owner:
    """A process that ran on this host, exited and was reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = owner_of(proc)
    proc.kill()
    proc.wait()
    return owner
