"""Batches and failure budgets against a brute-force oracle.

The oracle walks a fleet the slow, obvious way: batch after batch, every host of a batch runs,
then the batch's failures are counted with fractions (no shortcuts) and compared with the
budget. The scheduler under test (``judge``) is driven like the engine drives it: start what
it says, finish hosts one at a time in a random order, ask again. Both must run the same
hosts and stop (or not) for the same reason.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.fleet.batching import Budget, batch_sizes, cut_batches, judge, size_of


def oracle_sizes(spec: list[Any], total: int) -> list[int]:
    sizes = []
    done = 0
    i = 0
    while done < total:
        entry = spec[min(i, len(spec) - 1)]
        if isinstance(entry, str):
            n = int(Fraction(entry[:-1]) * total / 100)  # floor of an exact fraction
            n = max(n, 1)
        else:
            n = entry
        n = min(n, total - done)
        sizes.append(n)
        done += n
        i += 1
    return sizes


SIZE = st.one_of(st.integers(1, 12), st.integers(1, 100).map(lambda p: f"{p}%"))


@settings(max_examples=400, deadline=None)
@given(st.lists(SIZE, min_size=1, max_size=4), st.integers(0, 60))
def test_batch_sizes_match_the_oracle(spec: list[Any], total: int) -> None:
    sizes = batch_sizes(spec, total)
    assert sizes == oracle_sizes(spec, total)
    assert sum(sizes) == total
    hosts = [f"h{i}" for i in range(total)]
    batches = cut_batches(hosts, spec)
    assert [h for b in batches for h in b] == hosts  # order kept, nothing lost or doubled


def test_the_acceptance_sizes() -> None:
    # 20 hosts, [1, 5, "50%"]: 1, then 5, then 50% = 10, then the 4 left.
    assert batch_sizes([1, 5, "50%"], 20) == [1, 5, 10, 4]
    assert size_of("20%", 3) == 1  # at least one host


def oracle_walk(
    batches: list[list[str]], outcome: dict[str, str], budget: Budget
) -> tuple[list[str], bool]:
    """(hosts that ran, stopped?) the slow way."""
    ran: list[str] = []
    failed_total = 0
    total = sum(len(b) for b in batches)
    for batch in batches:
        ran += batch
        failed = sum(
            1
            for h in batch
            if outcome[h] == "failed"
            or (outcome[h] == "unreachable" and budget.unreachable != "ignore")
        )
        failed_total += failed
        if Fraction(failed, len(batch)) > Fraction(budget.max_fail_percentage) / 100:
            return ran, True
        if budget.on_batch_all_failed == "stop" and failed == len(batch):
            return ran, True
        limit = budget.total_fail_budget
        if limit is not None:
            allowed = int(Fraction(limit[:-1]) * total / 100) if isinstance(limit, str) else limit
            if failed_total > allowed:
                return ran, True
    return ran, False


@st.composite
def fleets(draw: st.DrawFn) -> tuple[list[list[str]], dict[str, str], Budget, Any, int]:
    total = draw(st.integers(1, 30))
    hosts = [f"h{i:02d}" for i in range(total)]
    spec = draw(st.lists(SIZE, min_size=1, max_size=4))
    batches = cut_batches(hosts, spec)
    outcome = {
        h: draw(st.sampled_from(["succeeded", "succeeded", "succeeded", "failed", "unreachable"]))
        for h in hosts
    }
    budget = Budget(
        max_fail_percentage=draw(st.sampled_from([0, 10, 20, 25, 33, 50, 99, 100])),
        total_fail_budget=draw(
            st.one_of(st.none(), st.integers(0, 6), st.sampled_from(["10%", "50%"]))
        ),
        unreachable=draw(st.sampled_from(["fail", "ignore", "retry"])),
        on_batch_all_failed=draw(st.sampled_from(["budget", "stop"])),
    )
    return (
        batches,
        outcome,
        budget,
        draw(st.randoms(use_true_random=False)),
        draw(st.sampled_from([1, 2, 3, 100])),
    )


def drive_lockstep(
    batches: list[list[str]], outcome: dict[str, Any], budget: Budget, rng: Any, limit: int
) -> tuple[list[str], bool]:
    done: dict[str, Any] = {}
    running: set[str] = set()
    started: list[str] = []
    while True:
        verdict = judge(batches, done, running, budget, "lockstep", limit=limit)
        assert not (set(verdict.start) & running), "a running host started twice"
        running |= set(verdict.start)
        started += verdict.start
        if verdict.stop is not None and not running:
            return started, True
        if verdict.done:
            return started, False
        assert running, f"stuck: {verdict}"
        # lockstep: everything running belongs to one batch
        batch_of = {h: i for i, b in enumerate(batches) for h in b}
        assert len({batch_of[h] for h in running}) == 1
        host = rng.choice(sorted(running))
        running.discard(host)
        done[host] = outcome[host]


@settings(max_examples=500, deadline=None)
@given(fleets())
def test_lockstep_runs_what_the_oracle_runs(fleet: Any) -> None:
    batches, outcome, budget, rng, limit = fleet
    expected_ran, expected_stop = oracle_walk(batches, outcome, budget)
    ran, stopped = drive_lockstep(batches, outcome, budget, rng, limit)
    assert stopped == expected_stop
    # Judged early, a failing batch may leave some of its own hosts unstarted, never more:
    # everything before the stopping batch ran, nothing after it did.
    if stopped:
        last = len(expected_ran)
        first_of_last = last - len(next(b for b in batches if b and b[-1] == expected_ran[-1]))
        assert expected_ran[:first_of_last] == [h for h in ran if h in expected_ran[:first_of_last]]
        assert set(expected_ran[:first_of_last]) <= set(ran) <= set(expected_ran)
    else:
        assert sorted(ran) == sorted(expected_ran)


@settings(max_examples=300, deadline=None)
@given(fleets())
def test_sliding_never_exceeds_the_window_and_stops_like_the_oracle(fleet: Any) -> None:
    batches, outcome, budget, rng, _ = fleet
    _, expected_stop = oracle_walk(batches, outcome, budget)
    batch_of = {h: i for i, b in enumerate(batches) for h in b}
    done: dict[str, Any] = {}
    running: set[str] = set()
    stopped = False
    while True:
        verdict = judge(batches, done, running, budget, "sliding")
        running |= set(verdict.start)
        if running:
            current = min(batch_of[h] for h in running)
            assert len(running) <= max(
                len(batches[current]), len(batches[max(batch_of[h] for h in running)])
            )
        if verdict.stop is not None and not running:
            stopped = True
            break
        if verdict.done:
            break
        host = rng.choice(sorted(running))
        running.discard(host)
        done[host] = outcome[host]
    # Sliding may start hosts of the next batch before a batch is judged, so it can stop
    # later than lockstep would, never miss a stop the oracle makes over the hosts that ran.
    if expected_stop:
        assert stopped or all(h in done for b in batches for h in b)
    if stopped:
        assert oracle_walk(batches, outcome, budget)[1]


def test_exceeded_not_equaled() -> None:
    batches = [["a"], ["b", "c", "d", "e"]]
    budget = Budget(max_fail_percentage=25)
    one = {"a": "succeeded", "b": "failed", "c": "succeeded", "d": "succeeded", "e": "succeeded"}
    assert judge(batches, one, set(), budget).done  # 1 of 4 = 25 %: equal, not exceeded
    two = {**one, "c": "failed"}
    verdict = judge(batches, two, set(), budget)
    assert verdict.stop == "batch 2: 2 of 4 hosts failed"


def test_a_fully_failed_batch_at_100_percent_continues_unless_told() -> None:
    # Ansible #76915: a whole failed batch stopped the play even at max_fail_percentage 100.
    batches = [["a", "b"], ["c"]]
    outcome = {"a": "failed", "b": "failed"}
    assert judge(batches, outcome, set(), Budget(max_fail_percentage=100)).start == ("c",)
    stop = Budget(max_fail_percentage=100, on_batch_all_failed="stop")
    assert judge(batches, outcome, set(), stop).stop == "batch 1: every host failed"
    pause = Budget(max_fail_percentage=100, on_batch_all_failed="pause")
    held = judge(batches, outcome, set(), pause)
    assert (held.stop, held.start, held.pause) == (None, (), "batch 1: every host failed")
    approved = Budget(
        max_fail_percentage=100, on_batch_all_failed="pause", all_failed_approved=True
    )
    assert judge(batches, outcome, set(), approved).start == ("c",)
    # A batch still running is not judged all-failed yet.
    assert judge(batches, {"a": "failed"}, {"b"}, pause).pause is None


def test_unreachable_policies() -> None:
    batches = [["a", "b"]]
    outcome = {"a": "unreachable", "b": "succeeded"}
    assert judge(batches, outcome, set(), Budget(unreachable="ignore")).done
    assert judge(batches, outcome, set(), Budget(unreachable="fail")).stop is not None
    assert judge(batches, outcome, set(), Budget(unreachable="retry")).stop is not None
