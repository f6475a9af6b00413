"""The output of a run's steps and rollback actions, from its run document and the store's
step logs: one reading for `phasegate logs` and the API's `GET /api/v1/runs/{id}/logs`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from phasegate.report.document import ReportDoc
from phasegate.store.contract import JournalStore


class LogText(TypedDict):
    """One item's log: where it is (a file, or None when the store holds it) and its text."""

    key: str
    path: str | None
    text: str
    status: str
    exit_code: int | None


def run_logs(data: ReportDoc, item: str | None, store: JournalStore) -> list[LogText]:
    """Every step, monitor and rollback action that ran (or those whose key contains ``item``), in
    order, with its log text; empty when ``item`` matches none.

    The text is read from the store (``read_log``), wherever the run was executed: a step
    still running shows what it printed so far (up to the engine's last flush, half a
    second at most)."""
    run_id = str(data["run"]["id"])
    entries: list[Mapping[str, Any]] = []
    for phase in data["phases"]:
        entries += [i for i in phase["items"] if i["kind"] == "step" and i.get("attempt")]
    # A phase's monitors (their log grows while they run).
    entries += data.get("monitors", [])
    if data["rollback"]:
        entries += [i for i in data["rollback"]["actions"] if i.get("attempt")]
    if item:
        entries = [e for e in entries if item in e["key"]]
    out: list[LogText] = []
    for entry in entries:
        text = store.read_log(run_id, str(entry["key"])).text
        where = entry.get("log") or (
            store.log_location(run_id, str(entry["key"])) if text else None
        )
        out.append(
            {
                "key": str(entry["key"]),
                "path": str(where) if where else None,
                "text": text,
                "status": str(entry["status"]),
                "exit_code": entry.get("exit_code"),
            }
        )
    return out
