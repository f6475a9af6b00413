"""The output of a run's steps and rollback actions, from its run document: one reading for
`phasegate logs` and the API's `GET /api/v1/runs/{id}/logs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phasegate.engine.context import safe_name


def run_logs(
    data: dict[str, Any], item: str | None = None, logs_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Every step, monitor and rollback action that ran (or those whose key contains ``item``), in
    order, with its log text; empty when ``item`` matches none.

    The journal names a log when its item finishes; a step still running has no name yet, so
    with ``logs_dir`` (the run's ``logs/``) its live file is read where the engine writes it:
    what it printed so far."""
    entries: list[dict[str, Any]] = []
    for phase in data["phases"]:
        entries += [i for i in phase["items"] if i["kind"] == "step" and i.get("attempt")]
    # A phase's monitors (their log grows while they run: its path is known from the start).
    entries += data.get("monitors", [])
    if data["rollback"]:
        entries += [i for i in data["rollback"]["actions"] if i.get("attempt")]
    if item:
        entries = [e for e in entries if item in e["key"]]
    out = []
    for entry in entries:
        path = Path(entry["log"]) if entry.get("log") else None
        if path is None and logs_dir is not None:
            live = logs_dir / f"{safe_name(entry['key'])}.log"
            path = live if live.is_file() else None
        text = path.read_text(encoding="utf-8", errors="replace") if path and path.is_file() else ""
        out.append(
            {
                "key": entry["key"],
                "path": str(path) if path else None,
                "text": text,
                "status": entry["status"],
                "exit_code": entry.get("exit_code"),
            }
        )
    return out
