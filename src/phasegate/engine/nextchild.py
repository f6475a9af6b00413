"""``phasegate next``: which child of a program is actionable now, and what blocks the others.

Pure: given the phases (id, needs, needs_mode) in plan order, each phase's status (all
``pending`` before a run; the journal's during one) and each phase's readiness (evaluated
just now by the caller, never cached), list the actionable children in dependency order and
every blocked child with its blockers.

Dependency order: the topological order that, at each point, takes the earliest phase in the
plan among those whose needs are placed (Kahn's algorithm with the plan order as priority), so
a program written top to bottom reads in its own order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DONE = "succeeded"


@dataclass(frozen=True)
class Node:
    id: str
    needs: tuple[str, ...] = ()
    any_of: bool = False  # needs_mode: any


@dataclass(frozen=True)
class Blocked:
    phase: str
    blockers: tuple[str, ...]


@dataclass(frozen=True)
class NextAnswer:
    actionable: list[str] = field(default_factory=list)  # in dependency order
    blocked: list[Blocked] = field(default_factory=list)  # in dependency order
    order: list[str] = field(default_factory=list)


def dependency_order(nodes: Sequence[Node]) -> list[str]:
    position = {n.id: i for i, n in enumerate(nodes)}
    unmet = {n.id: len([x for x in n.needs if x in position]) for n in nodes}
    dependents: dict[str, list[str]] = {n.id: [] for n in nodes}
    for n in nodes:
        for need in n.needs:
            if need in position:
                dependents[need].append(n.id)
    heap = [position[n.id] for n in nodes if unmet[n.id] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        node = nodes[heapq.heappop(heap)]
        order.append(node.id)
        for dependent in dependents[node.id]:
            unmet[dependent] -= 1
            if unmet[dependent] == 0:
                heapq.heappush(heap, position[dependent])
    return order  # a validated plan has no cycle, so every phase is here


def unmet_needs(node: Node, status: Mapping[str, str]) -> list[str]:
    """The needs standing in the way, as words ("c1 (running)"); [] when satisfied."""
    if not node.needs:
        return []
    done = [n for n in node.needs if status.get(n) == DONE]
    if (node.any_of and done) or len(done) == len(node.needs):
        return []
    waiting = [n for n in node.needs if status.get(n) != DONE]
    words = [f"needs {n} ({status.get(n, 'pending')})" for n in waiting]
    if node.any_of:
        return ["needs one of: " + ", ".join(w.removeprefix("needs ") for w in words)]
    return words


def next_children(
    nodes: Sequence[Node],
    status: Mapping[str, str],
    readiness: Mapping[str, Sequence[str]],
) -> NextAnswer:
    """``readiness``: a phase's readiness blockers ([] or absent: ready)."""
    by_id = {n.id: n for n in nodes}
    order = dependency_order(nodes)
    answer = NextAnswer(order=order)
    for phase_id in order:
        if status.get(phase_id, "pending") != "pending":
            continue  # running or finished: not a candidate
        blockers = unmet_needs(by_id[phase_id], status) + list(readiness.get(phase_id, ()))
        if blockers:
            answer.blocked.append(Blocked(phase_id, tuple(blockers)))
        else:
            answer.actionable.append(phase_id)
    return answer
