"""Guarantees between processes, on every back end several processes share: a real second
process appends or owns the run, and this one is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from phasegate.errors import RunStateError, StoreError
from phasegate.store.process import Owner
from tests.store.contract.conftest import BACKENDS, SHARED
from tests.store.contract.script import create

ROOT = Path(__file__).resolve().parents[3]


def _child(backend: str, state: Path, body: str) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from phasegate.store.process import Owner
        from tests.store.contract.conftest import BACKENDS
        store = BACKENDS[{backend!r}](Path({str(state)!r}))
        """
    ) + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("backend", SHARED)
def test_an_append_by_another_process_makes_this_state_stale(backend: str, tmp_path: Path) -> None:
    store = BACKENDS[backend](tmp_path / "state")
    create(store, "r1")
    stale = store.load_state("r1")
    child = _child(
        backend,
        tmp_path / "state",
        """
        state = store.load_state("r1")
        store.append(state, [("run.started", {}, 2000.0)], durable=True)
        print(state.seq)
        """,
    )
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0 and out.strip() == "2"
    with pytest.raises(StoreError, match="another process wrote to its journal meanwhile"):
        store.append(stale, [("run.started", {}, 2001.0)], durable=True)
    assert [(e.seq, e.type, e.ts) for e in store.events("r1")] == [
        (1, "run.created", 1000.0),
        (2, "run.started", 2000.0),
    ]
    store.close()


@pytest.mark.parametrize("backend", SHARED)
def test_a_run_owned_by_a_live_process_is_not_claimed(backend: str, tmp_path: Path) -> None:
    store = BACKENDS[backend](tmp_path / "state")
    create(store, "r1")
    store.release("r1", owner=Owner.me())
    child = _child(
        backend,
        tmp_path / "state",
        """
        store.claim("r1", Owner.me())
        print("claimed", flush=True)
        time.sleep(600)
        """,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "claimed"
        with pytest.raises(RunStateError, match=f"executed by pid {child.pid}"):
            store.claim("r1", Owner.me())
    finally:
        child.kill()
        child.communicate()  # reaps it and closes its pipe
    store.claim("r1", Owner.me())  # its owner is dead now: taken over
    assert store.get_run("r1").owner == Owner.me()
    store.close()


@pytest.mark.parametrize("backend", SHARED)
def test_racing_processes_with_one_idempotency_key_create_one_run(
    backend: str, tmp_path: Path
) -> None:
    store = BACKENDS[backend](tmp_path / "state")  # created (and migrated) before the race
    children = [
        _child(
            backend,
            tmp_path / "state",
            f"""
            from tests.store.contract.script import create
            go = Path({str(tmp_path / "go")!r})
            while not go.exists():
                time.sleep(0.005)
            print(create(store, "r{n}", key="same", ts=1000.0 + {n}))
            """,
        )
        for n in range(6)
    ]
    (tmp_path / "go").touch()
    outcomes = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        outcomes.append(out.strip())
    winner = store.run_ids()
    assert len(winner) == 1
    assert sorted(outcomes) == sorted([f"('{winner[0]}', True)"] + [f"('{winner[0]}', False)"] * 5)
    assert [e.type for e in store.events(winner[0])] == ["run.created"]
    store.close()
