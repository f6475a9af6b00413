"""The lane scheduler (lanes/scheduler.py) as a pure function, driven through simulated time:
random arrivals (plan-level and phase-level tickets, run priorities), durations, caps,
weights, a shared pool and caps lowered at runtime."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.lanes import POOL, Lane, Ticket, grants
from phasegate.lanes.model import PRIORITY_SECONDS

AGING = 5.0


@dataclass(frozen=True)
class Arrival:
    run_id: str
    lane: str
    at: int
    duration: int
    phase: str = ""  # a phase's `lane:` ticket ("" the plan's): one run may hold several
    priority: int = 0

    @property
    def key(self) -> str:
        return Ticket(self.run_id, self.lane, 0.0, phase=self.phase).id


@dataclass(frozen=True)
class Scenario:
    lanes: dict[str, Lane]
    arrivals: list[Arrival]
    cap_changes: list[tuple[int, str, int]]  # (at, lane, new cap)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    names = [f"L{i}" for i in range(draw(st.integers(1, 4)))]
    lanes = {
        name: Lane(name, cap=draw(st.integers(1, 4)), weight=draw(st.sampled_from([0.5, 1, 2, 3])))
        for name in names
    }
    pool = draw(st.none() | st.integers(1, 6))
    if pool is not None:
        lanes[POOL] = Lane(POOL, cap=pool)
    count = draw(st.integers(1, 40))
    # Every other ticket is a phase's of the run before it: a run's tickets are independent.
    arrivals = [
        Arrival(
            f"r{n // 2:03d}",
            draw(st.sampled_from(names)),
            draw(st.integers(0, 30)),
            draw(st.integers(1, 8)),
            phase="" if n % 2 == 0 else "deploy",
            priority=draw(st.sampled_from([0, 0, 0, -1, 1, 2])),
        )
        for n in range(count)
    ]
    changes = draw(
        st.lists(
            st.tuples(st.integers(0, 40), st.sampled_from([*names, POOL]), st.integers(1, 4)),
            max_size=3,
        )
    )
    if pool is None:
        changes = [c for c in changes if c[1] != POOL]
    return Scenario(lanes, arrivals, sorted(changes))


@dataclass
class Outcome:
    started: dict[str, int]
    finished: dict[str, int]
    violations: list[str]


def simulate(scenario: Scenario) -> Outcome:
    lanes = dict(scenario.lanes)
    by_id = {a.key: a for a in scenario.arrivals}
    tickets: dict[str, Ticket] = {}
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    violations: list[str] = []
    horizon = max(a.at for a in scenario.arrivals) + sum(a.duration for a in scenario.arrivals)
    horizon += 45  # the last cap change
    for now in range(horizon + 1):
        for run_id, start in started.items():
            if run_id not in finished and start + by_id[run_id].duration == now:
                finished[run_id] = now
                del tickets[run_id]
        for at, name, cap in scenario.cap_changes:
            if at == now:
                lanes[name] = replace(lanes[name], cap=cap)
        for arrival in scenario.arrivals:
            if arrival.at == now:
                tickets[arrival.key] = Ticket(
                    arrival.run_id,
                    arrival.lane,
                    float(now),
                    phase=arrival.phase,
                    priority=arrival.priority,
                )
        before = dict.fromkeys(lanes, 0)
        for ticket in tickets.values():
            if ticket.granted:
                before[ticket.lane] += 1
        granted = grants(lanes, list(tickets.values()), aging=AGING)
        assert len(granted) == len(set(granted))
        running = dict(before)
        for run_id in granted:
            ticket = tickets[run_id]
            assert not ticket.granted, "a granted ticket is never granted again"
            running[ticket.lane] += 1
            cap = lanes[ticket.lane].cap
            if cap is not None and running[ticket.lane] > cap:
                violations.append(f"t={now}: {ticket.lane} over its cap {cap}")
            tickets[run_id] = replace(ticket, granted_at=float(now))
            started[run_id] = now
        pool = lanes.get(POOL)
        if pool is not None and pool.cap is not None and granted:
            total = sum(v for k, v in running.items() if k != POOL)
            if total > pool.cap:
                violations.append(f"t={now}: {total} running over the pool's {pool.cap}")
        # Nothing overtakes: a run of another lane granted now was not enqueued more than
        # AGING * cap / weight after a run still waiting in a lane that had room (its rank:
        # the time it was queued less its priority's head start).
        for waiting in tickets.values():
            if waiting.granted:
                continue
            lane = lanes[waiting.lane]
            assert lane.cap is not None
            if running[waiting.lane] >= lane.cap:
                continue
            bound = AGING * lane.cap / lane.weight
            for run_id in granted:
                other = tickets[run_id]
                if other.lane != waiting.lane and other.rank - waiting.rank > bound:
                    violations.append(
                        f"t={now}: {run_id} ({other.lane}) overtook {waiting.run_id} "
                        f"({waiting.lane}) by more than {bound}"
                    )
                if other.lane == waiting.lane and _order(other) > _order(waiting):
                    violations.append(f"t={now}: {run_id} jumped its lane's queue")
                # In real time: never passed by a run queued later than its head start.
                head_start = (other.priority - waiting.priority) * PRIORITY_SECONDS
                if other.enqueued_at - waiting.enqueued_at > bound + head_start:
                    violations.append(f"t={now}: {run_id} passed {waiting.id} beyond its priority")
        if len(finished) == len(scenario.arrivals):
            break
    return Outcome(started, finished, violations)


def _order(ticket: Ticket) -> tuple[float, str, str]:
    return (ticket.rank, ticket.run_id, ticket.phase)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_caps_hold_every_run_runs_and_no_lane_is_overtaken_without_bound(
    scenario: Scenario,
) -> None:
    outcome = simulate(scenario)
    assert outcome.violations == []
    assert sorted(outcome.finished) == sorted(a.key for a in scenario.arrivals)
    for arrival in scenario.arrivals:
        assert outcome.started[arrival.key] >= arrival.at


def test_a_lowered_cap_preempts_nothing_and_holds_for_new_grants() -> None:
    lanes = {"A": Lane("A", cap=3)}
    tickets = [Ticket(f"r{n}", "A", float(n), granted_at=float(n)) for n in range(3)]
    tickets += [Ticket("r9", "A", 9.0)]
    lanes["A"] = Lane("A", cap=1)  # lowered while three run
    assert grants(lanes, tickets) == []
    two_done = tickets[2:]  # r0 and r1 ended: r2 runs, the lane is at its new cap
    assert grants(lanes, two_done) == []
    assert grants(lanes, tickets[3:]) == ["r9"]


def test_within_a_lane_first_come_first_served() -> None:
    lanes = {"A": Lane("A", cap=2)}
    tickets = [Ticket("late", "A", 5.0), Ticket("b", "A", 1.0), Ticket("a", "A", 1.0)]
    assert grants(lanes, tickets) == ["a", "b"]


def test_a_lane_without_a_cap_never_waits_and_a_cap_of_zero_closes_the_lane() -> None:
    tickets = [Ticket(f"r{n}", "free", 0.0) for n in range(5)] + [Ticket("c", "closed", 0.0)]
    lanes = {"closed": Lane("closed", cap=0)}
    assert grants(lanes, tickets) == [f"r{n}" for n in range(5)]


def test_the_pool_is_shared_by_weight_when_every_lane_is_backlogged() -> None:
    """Equal waits, pool of 6, weights 2:1: four slots to the heavy lane, two to the light."""
    lanes = {POOL: Lane(POOL, cap=6), "heavy": Lane("heavy", 10, 2.0), "light": Lane("light", 10)}
    tickets = [Ticket(f"h{n}", "heavy", 0.0) for n in range(10)]
    tickets += [Ticket(f"l{n}", "light", 0.0) for n in range(10)]
    granted = grants(lanes, tickets)
    assert len(granted) == 6
    assert sum(1 for r in granted if r.startswith("h")) == 4


def test_aging_lets_a_long_waiter_win_over_a_favoured_lane() -> None:
    lanes = {POOL: Lane(POOL, cap=1), "heavy": Lane("heavy", 5, 5.0), "light": Lane("light", 5)}
    # light's share term is 1.0, heavy's 0.2: light wins once it waited 0.8 * AGING longer.
    fresh = [Ticket("h", "heavy", 100.0), Ticket("l", "light", 100.0 - 0.5 * 60)]
    assert grants(lanes, fresh) == ["h"]
    old = [Ticket("h", "heavy", 100.0), Ticket("l", "light", 100.0 - 0.9 * 60)]
    assert grants(lanes, old) == ["l"]


def test_the_pool_full_grants_nothing() -> None:
    lanes = {POOL: Lane(POOL, cap=1), "a": Lane("a", 5)}
    tickets = [Ticket("x", "a", 0.0, granted_at=0.0), Ticket("y", "a", 1.0)]
    assert grants(lanes, tickets) == []


def test_a_priority_is_a_head_start_not_a_pass() -> None:
    """Priority 2 is two minutes of waiting: it goes before a run queued a minute earlier,
    not before one queued three minutes earlier."""
    lanes = {"A": Lane("A", cap=1)}
    minute = PRIORITY_SECONDS
    recent = [Ticket("waited", "A", 100.0), Ticket("urgent", "A", 100.0 + minute, priority=2)]
    assert grants(lanes, recent) == ["urgent"]
    long_ago = [Ticket("waited", "A", 100.0), Ticket("urgent", "A", 100 + 3 * minute, priority=2)]
    assert grants(lanes, long_ago) == ["waited"]


def test_a_phase_ticket_counts_against_the_cap_like_a_run() -> None:
    lanes = {"A": Lane("A", cap=2)}
    tickets = [
        Ticket("r1", "A", 1.0, granted_at=1.0),
        Ticket("r1", "A", 2.0, phase="deploy"),
        Ticket("r2", "A", 3.0),
    ]
    assert grants(lanes, tickets) == ["r1/deploy"]
