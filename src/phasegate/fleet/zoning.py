"""Zone-aware batches and host order of a fleet phase: pure functions, no I/O, no clock.

The semantics, exactly (docs/fleet.md says the same in words):

- ``order`` (applied first, once, when the phase resolves its hosts; the result is journalled):
  ``inventory`` keeps the inventory's order, ``sorted`` sorts by name (digits compared as
  numbers: web2 before web10), ``reverse`` reverses the inventory's order, ``shuffle`` orders by
  ``sha256(seed, host)`` (deterministic for a seed; the seed is journalled).
- A host's **zone** is the value of the ``by`` / ``spread`` label (``-`` when missing). Zones
  are ordered by their first host in the phase's order.
- ``by: az``: one zone at a time. Each zone's hosts are cut by ``size`` on their own (the
  entries start over in each zone; a percentage is of that zone's hosts); every batch of zone
  k comes before every batch of zone k+1; a batch never mixes zones.
- ``spread: az``: no batch empties a zone. Batch i has (at most) the size ``size`` gives it
  (percentages of the phase's hosts) and takes hosts round-robin across the zones, in zone
  order, each zone's hosts in the phase's order, skipping a zone whose every host would then
  be in this batch (while it has more than one host). A batch is smaller than its size only
  when every remaining host is of such a zone; the hosts left go to the next batches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from phasegate.fleet.batching import SizeEntry, cut_batches, size_of

Order = Literal["inventory", "sorted", "reverse", "shuffle"]
MISSING = "-"
_DIGITS = re.compile(r"(\d+)")


def natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """A name's sort key with digit runs compared as numbers (web2 < web10)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(name) if p)


def ordered(hosts: Sequence[str], order: Order, seed: str = "") -> list[str]:
    if order == "sorted":
        return sorted(hosts, key=lambda h: (natural(h), h))
    if order == "reverse":
        return list(reversed(hosts))
    if order == "shuffle":
        return sorted(hosts, key=lambda h: (hashlib.sha256(f"{seed}\0{h}".encode()).digest(), h))
    return list(hosts)


def zone_of(labels: Mapping[str, Any], label: str) -> str:
    value = labels.get(label)
    return MISSING if value is None else str(value)


def zones(hosts: Sequence[str], zone: Mapping[str, str]) -> dict[str, list[str]]:
    """Each zone's hosts in the hosts' order; zones in the order of their first host."""
    result: dict[str, list[str]] = {}
    for host in hosts:
        result.setdefault(zone[host], []).append(host)
    return result


def by_zone(
    hosts: Sequence[str], zone: Mapping[str, str], sizes: Sequence[SizeEntry]
) -> list[list[str]]:
    """``by``: one zone at a time, each zone cut by ``sizes`` on its own."""
    return [
        batch for members in zones(hosts, zone).values() for batch in cut_batches(members, sizes)
    ]


def spread(
    hosts: Sequence[str], zone: Mapping[str, str], sizes: Sequence[SizeEntry]
) -> list[list[str]]:
    """``spread``: batches of ``sizes`` taking hosts round-robin across zones, never a whole
    zone of more than one host in one batch."""
    groups = zones(hosts, zone)
    total = len(hosts)
    spec = list(sizes) or [total or 1]
    left = {z: list(members) for z, members in groups.items()}
    untouched = {z for z, members in groups.items() if len(members) > 1}
    batches: list[list[str]] = []
    remaining = total
    while remaining > 0:
        want = min(size_of(spec[min(len(batches), len(spec) - 1)], total), remaining)
        batch: list[str] = []
        taken = dict.fromkeys(groups, 0)
        progress = True
        while len(batch) < want and progress:
            progress = False
            for z in groups:
                if len(batch) >= want:
                    break
                if not left[z]:
                    continue
                if z in untouched and taken[z] + 1 >= len(groups[z]):
                    continue  # would put the zone's every host in this batch
                batch.append(left[z].pop(0))
                taken[z] += 1
                progress = True
        untouched -= {z for z, n in taken.items() if n}
        batches.append(batch)
        remaining -= len(batch)
    return batches


def plan_batches(
    hosts: Sequence[str],
    labels: Mapping[str, Mapping[str, Any]],
    sizes: Sequence[SizeEntry],
    by: str | None = None,
    spread_by: str | None = None,
) -> list[list[str]]:
    """The phase's batches, in order, for hosts already in the phase's order."""
    if by is not None:
        return by_zone(hosts, {h: zone_of(labels.get(h, {}), by) for h in hosts}, sizes)
    if spread_by is not None:
        return spread(hosts, {h: zone_of(labels.get(h, {}), spread_by) for h in hosts}, sizes)
    return cut_batches(hosts, sizes)


def zone_changes(batches: Sequence[Sequence[str]], zone: Mapping[str, str]) -> list[int]:
    """The indexes of the batches that start a new zone (after the first), for ``bake``."""
    return [
        i
        for i in range(1, len(batches))
        if batches[i] and batches[i - 1] and zone[batches[i][0]] != zone[batches[i - 1][0]]
    ]
