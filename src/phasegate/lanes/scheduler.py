"""Which queued runs get a slot now: a pure function of the lanes and the tickets.

Rules (docs/lanes.md):

- **Caps.** A lane never has more granted tickets than its cap; all lanes together never more
  than the pool's cap (``*``), when one is set. A cap lowered below what is running pre-empts
  nothing: that lane simply gets no grant until it is under the new cap.
- **Within a lane**, first come first served, a run's priority counting as a head start
  (``Ticket.rank``: ``enqueued_at`` less ``priority * PRIORITY_SECONDS``; then run id, phase).
- **Across lanes**, when the pool is what is short, weighted fair share with aging: the next
  slot goes to the lane with the smallest key ``(running + 1) / weight + rank / aging``
  of its oldest waiter. The first term is the share the lane would have with one more slot,
  per unit of weight; the second makes a waiter win over any younger one once it has waited
  ``aging`` seconds per unit of share difference. So a run is never passed by a run of
  another lane enqueued more than ``aging * cap / weight`` seconds after it (its own lane's
  cap and weight): nothing starves while other lanes run (tests/lanes/test_scheduler.py).

Cost: one pass over the tickets plus ``O(g log L)`` for ``g`` grants over ``L`` lanes; the
store calls it inside its grant transaction (bench/lanes.py measures it at 1,000 queued runs).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from phasegate.lanes.model import DEFAULT_WEIGHT, POOL, Lane, Ticket

# Seconds of waiting worth one unit of share (one slot per unit of weight).
AGING = 60.0


def _order(ticket: Ticket) -> tuple[float, str, str]:
    return (ticket.rank, ticket.run_id, ticket.phase)


def grants(
    lanes: Mapping[str, Lane], tickets: Sequence[Ticket], *, aging: float = AGING
) -> list[str]:
    """The ticket ids (``Ticket.id``: the run id for a plan's lane) to grant a slot now, in
    grant order. ``lanes`` by name (a lane without an
    entry, or with ``cap`` None, has no cap; ``lanes[POOL]`` caps all lanes together);
    ``tickets``: every ticket of the store, granted or queued."""
    running: dict[str, int] = {}
    queued: dict[str, list[Ticket]] = {}
    for ticket in tickets:
        if ticket.granted_at is not None:
            running[ticket.lane] = running.get(ticket.lane, 0) + 1
        else:
            queued.setdefault(ticket.lane, []).append(ticket)
    if not queued:
        return []
    pool_lane = lanes.get(POOL)
    pool = pool_lane.cap if pool_lane is not None else None
    total = sum(running.values())
    if pool is not None and total >= pool:
        return []

    def room(name: str) -> int | None:
        lane = lanes.get(name)
        cap = lane.cap if lane is not None else None
        return None if cap is None else cap - running.get(name, 0)

    # Per lane, only as many of its oldest waiters as it has room for can be granted.
    heads: dict[str, list[Ticket]] = {}
    for name, waiting in queued.items():
        free = room(name)
        if free is not None and free <= 0:
            continue
        budget = len(waiting) if free is None else free
        if pool is not None:
            budget = min(budget, pool - total)
        if budget == 1:
            heads[name] = [min(waiting, key=_order)]
        else:
            heads[name] = heapq.nsmallest(budget, waiting, key=_order)
        heads[name].reverse()  # popped from the end: oldest last

    if pool is None:  # nothing shared is short: every lane takes what it has room for
        return [t.id for name in sorted(heads) for t in reversed(heads[name])]

    def key(name: str) -> tuple[float, float, str, str]:
        lane = lanes.get(name)
        weight = lane.weight if lane is not None else DEFAULT_WEIGHT
        head = heads[name][-1]
        share = (running.get(name, 0) + 1) / weight
        return (share + head.rank / aging, head.rank, head.run_id, head.phase)

    heap = [(key(name), name) for name in heads]
    heapq.heapify(heap)
    granted: list[str] = []
    while heap and total < pool:
        _, name = heapq.heappop(heap)
        ticket = heads[name].pop()
        granted.append(ticket.id)
        running[name] = running.get(name, 0) + 1
        total += 1
        if heads[name]:
            heapq.heappush(heap, (key(name), name))
    return granted
