"""The report's per-stratum section: for each sampled fleet phase, its latest
``fleet.projection`` (docs/fleet.md): each stratum's hosts, picked, succeeded, failed and fail
rate; each projection with its interval and budget; the risk score."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from phasegate.run.record import JsonDict, Number


class StrataView(TypedDict):
    """A sampled fleet phase's latest projection as the report shows it."""

    phase: str
    hosts: int  # the fleet the sample stands for
    strata: list[JsonDict]  # {stratum, size, picked, succeeded, failed, fail_rate}
    projections: list[JsonDict]  # as journalled, with `shown` and `unit` added
    risk: Number | None
    risk_max: Number | None


def strata_view(events: Iterable[tuple[Any, ...]]) -> list[StrataView]:
    """One entry per sampled phase (in first-projection order), from stored events
    ``(seq, ts, type, data)``; a resumed run's later projection replaces the earlier one."""
    latest: dict[str, StrataView] = {}
    for _, _, etype, data in events:
        if etype != "fleet.projection":
            continue
        latest[str(data["phase"])] = {
            "phase": data["phase"],
            "hosts": data.get("hosts", 0),
            "strata": list(data.get("strata") or ()),
            "projections": [_projection(p) for p in data.get("projections") or ()],
            "risk": data.get("risk"),
            "risk_max": data.get("risk_max"),
        }
    return list(latest.values())


def _projection(entry: JsonDict) -> JsonDict:
    wall = "wall" in entry
    return {
        **entry,
        # What the budget is compared with: the phase's wall time for `duration`.
        "shown": [entry["wall"], entry["wall_low"], entry["wall_high"]]
        if wall
        else [entry["estimate"], entry["low"], entry["high"]],
        "unit": "s (wall)" if wall else "",
    }
