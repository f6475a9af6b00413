"""Per-host view of fleet phases, for ``status``, the report and the dashboard's run page:
for each fleet phase, each host (in the phase's journalled order) with its batch, each step's
status there, each host gate's, and the host's outcome.

Read from the journal only (views never re-derive from the plan): the hosts come with the
fleet item's first ``item.started``, the batches from ``fleet.batch``, the statuses from the
host items ``phase/step@host`` and ``phase/gate:ID@host`` (their last event). Steps and gates
are listed in the order they first appear in the journal.

A host's outcome: ``failed`` when a step or gate failed there (``unreachable`` when it could
not be reached), ``unknown`` when an item's outcome is unknown (the controller died and the
host kept no record), ``running`` while an item runs (or waits to retry), ``succeeded`` when
every step and gate ended well there, ``pending`` when nothing ran there yet, ``incomplete``
otherwise (the phase stopped before the host's later steps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

_BAD = ("failed", "error")
_GOOD = ("succeeded", "skipped", "passed", "warned")


class HostRow(TypedDict):
    """One host of a fleet phase: its batch, each step's and gate's status there ("-": not
    run there), and its outcome."""

    host: str
    batch: int | None
    steps: dict[str, str]
    gates: dict[str, str]
    outcome: str


class FleetHostsView(TypedDict):
    """A fleet phase host by host (steps and gates in the order they first ran)."""

    phase: str
    steps: list[str]
    gates: list[str]
    hosts: list[HostRow]


@dataclass
class _Phase:
    phase: str
    order: list[str] = field(default_factory=list)  # the hosts, in the journalled order
    batch: dict[str, int] = field(default_factory=dict)  # host -> batch
    steps: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)


class _Seen(NamedTuple):
    """A host item's last status (``phase/step@host``, ``phase/gate:ID@host``)."""

    phase: str
    kind: str  # step | gate
    ident: str
    status: str


def hosts_view(events: Iterable[tuple[Any, ...]]) -> list[FleetHostsView]:
    phases: dict[str, _Phase] = {}
    items: dict[str, _Seen] = {}
    for _, _, etype, data in events:
        if etype == "item.started" and data.get("kind") == "fleet" and data.get("hosts"):
            phase = str(data["phase"])
            entry = phases.setdefault(phase, _Phase(phase))
            entry.order = [str(h["name"]) for h in data["hosts"]]
        elif etype == "fleet.batch":
            entry = phases.setdefault(str(data["phase"]), _Phase(str(data["phase"])))
            for host in data.get("hosts") or ():
                entry.batch[str(host)] = int(data["batch"])
        elif etype in ("item.started", "item.finished", "item.unknown"):
            _item(phases, items, etype, data)
    return [_rows(entry, items) for entry in phases.values() if entry.order]


def _item(
    phases: dict[str, _Phase], items: dict[str, _Seen], etype: str, data: Mapping[str, Any]
) -> None:
    key = str(data.get("key") or "")
    if etype == "item.unknown":
        if key in items:
            items[key] = items[key]._replace(status="unknown")
        return
    head, sep, host = key.rpartition("@")
    if not sep or "/" not in head or key.startswith(("undo:", "rollback:")):
        return
    phase, _, ident = head.partition("/")
    entry = phases.get(phase)
    if entry is None or host not in entry.order:
        return
    kind = "gate" if ident.startswith("gate:") else "step"
    ident = ident.removeprefix("gate:")
    listed = entry.gates if kind == "gate" else entry.steps
    if ident not in listed:
        listed.append(ident)
    status = "running" if etype == "item.started" else str(data.get("status") or "")
    if etype == "item.finished" and data.get("unreachable"):
        status = "unreachable"
    items[key] = _Seen(phase, kind, ident, status)


def _rows(entry: _Phase, items: dict[str, _Seen]) -> FleetHostsView:
    phase = entry.phase
    rows: list[HostRow] = []
    for host in entry.order:
        steps = {s: _status(items, f"{phase}/{s}@{host}") for s in entry.steps}
        gates = {g: _status(items, f"{phase}/gate:{g}@{host}") for g in entry.gates}
        rows.append(
            {
                "host": host,
                "batch": entry.batch.get(host),
                "steps": steps,
                "gates": gates,
                "outcome": _outcome([*steps.values(), *gates.values()]),
            }
        )
    return {"phase": phase, "steps": entry.steps, "gates": entry.gates, "hosts": rows}


def _status(items: dict[str, _Seen], key: str) -> str:
    found = items.get(key)
    return found.status if found is not None else "-"


def _outcome(statuses: list[str]) -> str:
    ran = [s for s in statuses if s != "-"]
    if "unreachable" in ran:
        return "unreachable"
    if any(s in _BAD for s in ran):
        return "failed"
    if "unknown" in ran:
        return "unknown"
    if any(s in ("running", "retrying") for s in ran):
        return "running"
    if not ran:
        return "pending"
    if len(ran) == len(statuses) and all(s in _GOOD for s in ran):
        return "succeeded"
    return "incomplete"
