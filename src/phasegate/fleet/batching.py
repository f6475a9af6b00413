"""Batches and failure budgets of a fleet phase: pure functions, no I/O, no clock.

The semantics, exactly (docs/fleet.md says the same in words):

- ``size: [1, 5, "20%"]`` cuts the selected hosts, in order, into batches of 1, then 5, then
  20 % of the phase's hosts, the last entry repeating until every host has a batch. A
  percentage is of the phase's selected hosts, rounded down, and at least 1. The last batch
  may be smaller (the hosts left).
- ``max_fail_percentage: P`` (per batch, default 0): a batch *fails the phase* when its failed
  hosts are more than P % of the batch's hosts: ``failed * 100 > P * batch_size``
  (exceeded, not equaled; integer arithmetic, so 1 failure in a batch of 4 with P = 25 does
  not stop, 2 do). With P = 100 no batch can exceed it: a batch whose every host failed
  continues unless ``on_batch_all_failed: stop`` (the Ansible pain of #76915 is a choice
  here, never a surprise).
- ``total_fail_budget: N`` (or ``"N%"`` of the phase's hosts): the phase fails when the failed
  hosts of all batches together are more than N. Unset: no total limit beyond the batches'.
- Unreachable hosts: ``unreachable: fail`` counts them as failed; ``ignore`` counts them as
  neither failed nor succeeded (they stay in the batch's size: ignoring cannot make the
  percentage of the others look worse); ``retry`` reconnects (the executor's business) and
  counts a host still unreachable after that as failed.
- The checks are monotone (failures only grow), so the engine may judge a batch while hosts of
  it still run: once exceeded it stops starting hosts, lets in-flight ones finish, and fails.
- ``mode: lockstep``: batch b+1 starts when every host of batch b has finished and the budget
  holds. ``mode: sliding``: the current batch's size is a window; a host of a later batch
  starts as soon as a slot frees, while no budget is exceeded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Outcome = Literal["succeeded", "failed", "unreachable"]
UnreachablePolicy = Literal["fail", "ignore", "retry"]
SizeEntry = int | str


def size_of(entry: SizeEntry, total: int) -> int:
    """One ``size`` entry as a host count for a phase of ``total`` hosts (>= 1)."""
    if isinstance(entry, str):
        text = entry.strip()
        if not text.endswith("%"):
            return max(int(text), 1)
        return max(int(float(text[:-1]) * total // 100), 1)
    return max(entry, 1)


def batch_sizes(sizes: Sequence[SizeEntry], total: int) -> list[int]:
    """The size of each batch, in order; they sum to ``total``."""
    result: list[int] = []
    left = total
    index = 0
    spec = list(sizes) or [total or 1]
    while left > 0:
        size = min(size_of(spec[min(index, len(spec) - 1)], total), left)
        result.append(size)
        left -= size
        index += 1
    return result


def cut_batches(hosts: Sequence[str], sizes: Sequence[SizeEntry]) -> list[list[str]]:
    """The hosts, in order, cut into batches."""
    batches: list[list[str]] = []
    start = 0
    for size in batch_sizes(sizes, len(hosts)):
        batches.append(list(hosts[start : start + size]))
        start += size
    return batches


def fail_limit(entry: SizeEntry | None, total: int) -> int | None:
    """``total_fail_budget`` as a host count (None: unlimited)."""
    if entry is None:
        return None
    if isinstance(entry, str) and entry.strip().endswith("%"):
        return int(float(entry.strip()[:-1]) * total // 100)
    return int(entry)


@dataclass(frozen=True)
class Budget:
    max_fail_percentage: float = 0
    total_fail_budget: SizeEntry | None = None
    unreachable: UnreachablePolicy = "fail"
    on_batch_all_failed: Literal["budget", "stop", "pause"] = "budget"
    min_healthy: SizeEntry | None = None
    # `pause`: a human approved going on past all-failed batches (the fleet item's approval).
    all_failed_approved: bool = False


def healthy_floor(entry: SizeEntry | None, total: int) -> int | None:
    """``min_healthy`` as a host count: a percentage of the phase's hosts rounded *up* (a
    floor of healthy hosts must not shrink by rounding)."""
    if entry is None:
        return None
    if isinstance(entry, str) and entry.strip().endswith("%"):
        return math.ceil(Fraction(entry.strip()[:-1]) * total / 100)
    return int(entry)


def counts_as_failed(outcome: Outcome | None, policy: UnreachablePolicy) -> bool:
    if outcome == "failed":
        return True
    return outcome == "unreachable" and policy != "ignore"


def batch_exceeded(size: int, failed: int, max_fail_percentage: float) -> bool:
    """Exceeded, not equaled: ``failed / size > P / 100`` without floating point."""
    return failed * 100 > max_fail_percentage * size


@dataclass(frozen=True)
class Verdict:
    """Where a fleet phase stands. ``stop`` names why it must stop (None: it may go on)."""

    stop: str | None
    start: tuple[str, ...]  # hosts to start now
    done: bool  # every host has an outcome (and nothing stops it)
    batch: int  # the batch the next host to start belongs to (len(batches) when none)
    pause: str | None = None  # `on_batch_all_failed: pause`: why a human must decide


def judge(
    batches: Sequence[Sequence[str]],
    outcomes: Mapping[str, Outcome],
    running: frozenset[str] | set[str],
    budget: Budget,
    mode: Literal["lockstep", "sliding"] = "lockstep",
    limit: int | None = None,
) -> Verdict:
    """What a fleet phase does next, given each finished host's outcome and the hosts running.

    ``limit`` caps the hosts running at once (the run's connection limit)."""
    total = sum(len(b) for b in batches)
    failed_total = 0
    for index, batch in enumerate(batches):
        failed = sum(counts_as_failed(outcomes.get(h), budget.unreachable) for h in batch)
        failed_total += failed
        if batch_exceeded(len(batch), failed, budget.max_fail_percentage):
            return Verdict(f"batch {index + 1}: {_ratio(failed, len(batch))}", (), False, index)
        if (
            budget.on_batch_all_failed in ("stop", "pause")
            and batch
            and failed == len(batch)
            and all(h in outcomes for h in batch)
        ):
            why = f"batch {index + 1}: every host failed"
            if budget.on_batch_all_failed == "stop":
                return Verdict(why, (), False, index)
            if not budget.all_failed_approved:
                return Verdict(None, (), False, index, pause=why)
    allowed = fail_limit(budget.total_fail_budget, total)
    if allowed is not None and failed_total > allowed:
        return Verdict(
            f"{failed_total} hosts failed, over the total_fail_budget of {allowed}", (), False, 0
        )
    pending = [(i, h) for i, b in enumerate(batches) for h in b if h not in outcomes]
    if not pending:
        return Verdict(None, (), True, len(batches))
    waiting = [(i, h) for i, h in pending if h not in running]
    if not waiting:
        return Verdict(None, (), False, pending[0][0])
    current = waiting[0][0]
    if mode == "lockstep":
        # Batch b+1 waits for every host of b (and of every earlier batch) to finish.
        if any(i < current for i, _ in pending):
            return Verdict(None, (), False, current)
        window = len(batches[current])
        choose = [h for i, h in waiting if i == current]
    else:
        window = len(batches[current])
        choose = [h for _, h in waiting]
    slots = window - len(running)
    if limit is not None:
        slots = min(slots, limit - len(running))
    floor = healthy_floor(budget.min_healthy, total)
    fresh = not any(h in outcomes or h in running for h in batches[current])
    if floor is not None and fresh and slots > 0:
        # Before a batch starts: the hosts left serving while it runs are those not failed
        # (unreachable ones included, whatever `unreachable:` says), not running and not in it.
        down = sum(outcomes.get(h) in ("failed", "unreachable") for b in batches for h in b)
        healthy = total - down - len(running) - len(batches[current])
        if healthy < floor:
            why = (
                f"batch {current + 1} would leave {healthy} healthy hosts, "
                f"below min_healthy {floor}"
            )
            return Verdict(why, (), False, current)
    return Verdict(None, tuple(choose[: max(slots, 0)]), False, current)


def _ratio(failed: int, size: int) -> str:
    return f"{failed} of {size} hosts failed"
