"""A legal run, event by event, for tests that need a real journal to append to."""

from __future__ import annotations

from typing import Any

from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner

PHASES = ["build", "deploy"]

# After run.created: the events of a run that builds, deploys and succeeds.
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("run.started", {}),
    ("phase.started", {"phase": "build"}),
    ("item.started", {"key": "build/compile", "kind": "step", "phase": "build"}),
    ("item.finished", {"key": "build/compile", "kind": "step", "status": "succeeded"}),
    ("phase.finished", {"phase": "build", "status": "succeeded"}),
    ("phase.started", {"phase": "deploy"}),
    ("item.started", {"key": "deploy/push", "kind": "step", "phase": "deploy"}),
    ("item.finished", {"key": "deploy/push", "kind": "step", "status": "succeeded"}),
    ("phase.finished", {"phase": "deploy", "status": "succeeded"}),
    ("run.finished", {"status": "succeeded"}),
]


def create(
    store: JournalStore,
    run_id: str,
    *,
    ts: float = 1000.0,
    lock: str = "web",
    key: str | None = None,
    sha: str = "sha-1",
    owner: Owner | None = None,
) -> tuple[str, bool]:
    return store.create_run(
        run_id=run_id,
        plan_name=lock,
        plan_path=f"/plans/{lock}.yaml",
        plan_sha256=sha,
        plan_text=f"name: {lock}\n",
        lock_name=lock,
        idempotency_key=key,
        options={"vars": {"TARGET": "./site"}},
        phases=PHASES,
        needs={"deploy": ["build"]},
        owner=owner or Owner.me(),
        ts=ts,
    )


def advance(store: JournalStore, run_id: str, count: int, *, ts: float = 2000.0) -> None:
    """Append the next ``count`` events of the script, one append each."""
    state = store.load_state(run_id)
    for _ in range(count):
        etype, data = SCRIPT[state.seq - 1]
        store.append(state, [(etype, data, ts + state.seq)], durable=True)
