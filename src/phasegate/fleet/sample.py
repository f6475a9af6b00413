"""A representative canary: which hosts a phase's ``sample:`` picks, stratum by stratum.
Pure functions: the same hosts, strata and salt always give the same sample.

- A host's stratum is the tuple of its ``strata`` labels (``[az, os]`` -> ``("a", "debian")``;
  a missing label is ``"-"``), or the value of a CEL ``key`` over the host.
- The sample holds ``n = ceil(pct % of the hosts)`` hosts (at least 1), allocated to strata:
  ``proportional`` gives each stratum ``floor(n × its share)`` and the seats left to the largest
  remainders (ties by stratum, in order); ``equal`` gives each stratum ``n // strata`` and the
  seats left to strata in order. No stratum gets more hosts than it has (its surplus goes to
  the next by the same rule).
- Within a stratum, hosts are taken in the order of ``sha256(salt + host name)``, so the sample
  is deterministic, unrelated to inventory order, and the same on resume.
- A stratum is *represented* when it got ``min(min_per_stratum, its size)`` hosts;
  ``strata_coverage`` is represented strata / strata. Below the required coverage the sample
  bumps to the next size (``bump.to``) up to ``bump.cap``; still short there, the missing
  strata are named.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

Stratum = tuple[str, ...]


@dataclass(frozen=True)
class Draw:
    pct: float
    hosts: tuple[str, ...]  # in the order they will run
    coverage: float
    per_stratum: dict[Stratum, tuple[int, int]]  # stratum -> (picked, size)
    missing: tuple[Stratum, ...]

    @property
    def enough(self) -> bool:
        return not self.missing


def stratum_of(labels: Mapping[str, Any], strata: Sequence[str]) -> Stratum:
    return tuple(str(labels.get(name, "-")) for name in strata)


def rank(salt: str, host: str) -> str:
    return hashlib.sha256(f"{salt}\0{host}".encode()).hexdigest()


def allocate(
    sizes: Mapping[Stratum, int], n: int, allocation: Literal["proportional", "equal"]
) -> dict[Stratum, int]:
    """Seats per stratum, summing to min(n, hosts)."""
    order = sorted(sizes)
    total = sum(sizes.values())
    n = min(n, total)
    seats = dict.fromkeys(order, 0)
    while sum(seats.values()) < n:
        open_strata = [s for s in order if seats[s] < sizes[s]]
        left = n - sum(seats.values())
        # exact fractions: a remainder's order must not depend on rounding
        if allocation == "equal":
            share = {s: Fraction(left, len(open_strata)) for s in open_strata}
        else:
            weight = sum(sizes[s] for s in open_strata)
            share = {s: Fraction(left * sizes[s], weight) for s in open_strata}
        given = 0
        for s in open_strata:
            add = min(math.floor(share[s]), sizes[s] - seats[s])
            seats[s] += add
            given += add
        left -= given
        if left <= 0:
            continue
        # the seats left go to the largest remainders, ties by stratum order
        by_rest = sorted(open_strata, key=lambda s: (-(share[s] - math.floor(share[s])), s))
        for s in by_rest:
            if left == 0:
                break
            if seats[s] < sizes[s]:
                seats[s] += 1
                left -= 1
    return seats


def draw(
    hosts: Sequence[tuple[str, Stratum]],
    pct: float,
    *,
    salt: str,
    min_per_stratum: int = 1,
    allocation: Literal["proportional", "equal"] = "proportional",
) -> Draw:
    groups: dict[Stratum, list[str]] = {}
    for name, stratum in hosts:
        groups.setdefault(stratum, []).append(name)
    sizes = {s: len(names) for s, names in groups.items()}
    n = max(math.ceil(pct * len(hosts) / 100), 1) if hosts else 0
    seats = allocate(sizes, n, allocation)
    picked: list[str] = []
    per: dict[Stratum, tuple[int, int]] = {}
    missing: list[Stratum] = []
    for stratum in sorted(groups):
        chosen = sorted(groups[stratum], key=lambda h: rank(salt, h))[: seats[stratum]]
        picked += chosen
        per[stratum] = (len(chosen), sizes[stratum])
        if len(chosen) < min(min_per_stratum, sizes[stratum]):
            missing.append(stratum)
    picked.sort(key=lambda h: rank(salt, h))
    coverage = (len(groups) - len(missing)) / len(groups) if groups else 1.0
    return Draw(pct, tuple(picked), coverage, per, tuple(missing))


def draw_with_bumps(
    hosts: Sequence[tuple[str, Stratum]],
    sizes: Sequence[float],
    *,
    coverage: float,
    salt: str,
    min_per_stratum: int = 1,
    allocation: Literal["proportional", "equal"] = "proportional",
) -> Draw:
    """The first of ``sizes`` (percentages, ascending: the first, then the bumps up to the
    cap) whose draw reaches ``coverage``; else the draw at the last size."""
    result: Draw | None = None
    for pct in sizes:
        result = draw(hosts, pct, salt=salt, min_per_stratum=min_per_stratum, allocation=allocation)
        if result.coverage >= coverage:
            return result
    assert result is not None
    return result


def words(stratum: Stratum, strata: Sequence[str]) -> str:
    return ",".join(f"{k}={v}" for k, v in zip(strata, stratum, strict=False)) or "-"


StratumKey = Callable[[str, Mapping[str, Any]], Stratum]
