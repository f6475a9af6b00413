"""One contract suite, every store: each test runs once per back end in ``BACKENDS``.

A PostgreSQL store is one more entry here (and a server fixture), nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phasegate.store.contract import JournalStore
from phasegate.store.memory import MemoryStore
from phasegate.store.process import Owner, proc_stat
from phasegate.store.sqlite import SqliteStore

MakeStore = Callable[[Path], JournalStore]

BACKENDS: dict[str, MakeStore] = {
    "memory": MemoryStore,
    "sqlite": SqliteStore,
}


# Back ends whose journal several processes share (the memory store lives in one process).
SHARED = ["sqlite"]


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
