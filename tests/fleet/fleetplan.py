"""Fleet plans for tests: N hosts, each with its own directory (its "machine"), and a shared
ledger every command appends to, so a test reads what ran where and in which order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOY = (
    'echo "deploy $PHASEGATE_HOST" >> "$LEDGER"; '
    'mkdir -p "$HOST_DIR"; echo v2 > "$HOST_DIR/version"; '
    'echo "installed v2 on $PHASEGATE_HOST"; test "$HOST_FAIL" != true'
)
UNDO = 'echo "undo $PHASEGATE_HOST" >> "$LEDGER"; echo v1 > "$HOST_DIR/version"'


def fleet_plan(
    root: Path,
    hosts: list[dict[str, Any]],
    *,
    size: list[Any],
    max_fail: float | None = None,
    unreachable: str | None = None,
    executor: str = "local",
    ssh: dict[str, Any] | None = None,
    extra_step: str | None = None,
    mode: str = "lockstep",
) -> Path:
    ledger = root / "ledger"
    phase: dict[str, Any] = {
        "id": "deploy",
        "hosts": "'web' in groups",
        "batch": {"size": size, "mode": mode},
        "steps": [{"name": "install", "run": DEPLOY, "undo": UNDO}],
    }
    if extra_step:
        phase["steps"].append({"name": "verify", "run": extra_step})
    if max_fail is not None:
        phase["max_fail_percentage"] = max_fail
    if unreachable is not None:
        phase["unreachable"] = unreachable
    targets: dict[str, Any] = {"hosts": hosts, "executor": executor}
    if ssh:
        targets["ssh"] = ssh
    plan = {
        "version": 1,
        "name": "fleet",
        "vars": {"LEDGER": str(ledger)},
        "targets": targets,
        "phases": [phase],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def local_hosts(root: Path, count: int, failing: set[int] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    return [
        {
            "name": f"web{i:02d}",
            "groups": ["web"],
            "labels": {"dir": str(root / "hosts" / f"web{i:02d}"), "fail": i in failing},
        }
        for i in range(count)
    ]


def ledger(root: Path) -> list[str]:
    path = root / "ledger"
    return path.read_text().splitlines() if path.exists() else []


def batches(events: list[dict[str, Any]]) -> list[list[str]]:
    return [list(e["hosts"]) for e in events if e["type"] == "fleet.batch"]


def journal(state_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The run's events, read through the store contract."""
    from phasegate.store.sqlite import SqliteStore

    store = SqliteStore(state_dir, readonly=True)
    try:
        return [{"type": e.type, **e.data} for e in store.events(run_id)]
    finally:
        store.close()
