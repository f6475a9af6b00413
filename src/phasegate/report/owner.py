"""Who executes a run and whether that process is alive, for views that show a run's status.

The journal says ``running`` until the run's process records otherwise; a process that was
killed records nothing. The store's owner check (pid, host and process start time, so a reused
pid is not taken for the owner) tells the two apart: ``alive`` False means the run crashed and
``phasegate resume`` continues it; None means the owner is on another host.
"""

from __future__ import annotations

from phasegate.store.records import RunRecord


def owner_info(record: RunRecord) -> dict[str, object] | None:
    owner = record.owner
    if owner is None:
        return None
    return {"pid": owner.pid, "host": owner.host, "alive": owner.alive()}
