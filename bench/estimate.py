"""Estimate cost (issue 13 §4, goal: `estimate` over a history of 10,000 runs ≤ 1 s).

A plan of 4 phases (two branches side by side) of 3 steps each; 10,000 synthetic past runs
with log-normal step times, an approval wait in one run in ten and a sandbox run in one in
five (refused by the calibration rule). Measured, each on data already in memory: durations
from the journals' events (human waits removed: what a run's durations digest holds, computed
once per run), durations from the digests (what a history read does), admitting runs and
fitting the models, the Monte Carlo (10,000 draws) for the whole run; digests + fit + Monte
Carlo is what `phasegate estimate` costs beyond the store read, reported as a ratio to the
goal. Then the rolling-origin backtest (`--calibration`) and, separately, reading a history
through a real SQLite store: the first read (no digests yet: journals read, digests computed
and saved, once), then a read from the digests, per run, and the whole `read_history` + fit +
estimate through SQLite for the runs written (the end-to-end number to compare with the goal).

Projection cost (``--projection``): what re-projecting a live run costs, per projection, on
a plan with a long history (``--history`` finished runs in a real SQLite store, digests
saved) and a live run whose own journal is long (``--padding`` extra events, as a run that
has been watched for hours collects): the engine's duration projection (the journal read +
the remaining time's Monte Carlo, 2,000 draws, on models fitted once — what ``BudgetWatch``
does at most every 0.2 s), the resource budgets' projection (from the run's state, at each
finished step), the dashboard's runway panel (history read + fit + 2,000 draws + resources:
what each journal change of a watched run cost before the fit was cached) and ``GET
…/estimate`` (10,000 draws), each re-fitted (the fit cache cleared before each call) and with
the fit cached (estimate/fitcache.py: what a journal change of the live run costs now),
interleaved and in CPU time, with the ratio.
Each is reported against the engine's cost of one step (a ``true`` step run through
``session.start`` on SQLite, spawn and journal included), as a ratio.

Measured here (2-core host, loaded by other sessions; 1,000 finished runs, a live journal of
5,026 events, a ``true`` step 30 ms): engine duration projection 358 ms (11.9× a step; the
journal read alone 191 ms, 6.4×), resource projection 67 ms (2.2×), dashboard runway panel
1,082 ms (36×), ``GET …/estimate`` 791 ms (26×). With 300 runs and 1,026 events: 28 ms
(0.9×), 7 ms, 60 ms, 130 ms, 453 ms. Fit cached (CPU, load ~5): panel 166 -> 64 ms (2.6×),
``GET …/estimate`` 196 -> 94 ms (2.1×); docs/performance.md. Then, the fit cached, the live
run's journal folded again at each projection against the fold kept per run with its cursor
(server/livefold.py: only the events appended since, ``LIVE_APPENDS`` per projection here):
fold alone 33.2 -> 0.14 ms (241×), panel 44.8 -> 12.5 ms (3.6×), ``GET …/estimate`` 57.5 ->
20.2 ms (2.8×).

Run: ``uv run python bench/estimate.py [--runs N] [--sqlite-runs M] [--projection]
[--history H] [--padding E]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from phasegate.estimate import backtest, durations, fit, read_history
from phasegate.estimate.digest import from_digest, to_digest
from phasegate.plan.loader import load_plan_text
from phasegate.store.digests import HistoryRow, dump_digest
from phasegate.store.process import Owner
from phasegate.store.records import RunRecord, StoredEvent
from phasegate.store.sqlite import SqliteStore

GOAL = 1.0
PLAN = """\
version: 1
name: bench
estimate:
  calibration: "run_kind in ['baseline', 'hotfix'] && validation_pass && !sandbox"
phases:
"""
PHASES = {"prep": [], "db": ["prep"], "web": ["prep"], "verify": ["db", "web"]}
STEPS = ("one", "two", "three")
for _phase, _needs in PHASES.items():
    PLAN += f"  - id: {_phase}\n    needs: {_needs}\n    steps:\n"
    PLAN += "".join(f"      - {{id: {s}, run: 'true'}}\n" for s in STEPS)


def journal(n: int, rng: random.Random, start: float) -> tuple[RunRecord, list[StoredEvent]]:
    """One succeeded run's record and events, phases on the DAG, steps log-normal."""
    rows: list[tuple[float, str, dict[str, Any]]] = []
    facts = {"run_kind": "baseline", "validation_pass": "true", "sandbox": n % 5 == 4}
    rows.append((start, "run.created", {"phases": list(PHASES)}))
    rows.append((start, "run.started", {"vars": facts}))
    finish: dict[str, float] = {}
    for phase, needs in PHASES.items():
        t = max((finish[p] for p in needs), default=start)
        rows.append((t, "phase.started", {"phase": phase}))
        for step in STEPS:
            key = f"{phase}/{step}"
            ref = {"key": key, "kind": "step", "phase": phase, "name": step}
            rows.append((t, "item.started", ref))
            t += rng.lognormvariate(math.log(20), 0.4)
            rows.append((t, "item.finished", {**ref, "status": "succeeded"}))
        if phase == "verify" and n % 10 == 0:  # an approval wait of ~an hour
            gate = {"key": "verify/gate:ok", "kind": "gate", "phase": "verify"}
            rows.append((t, "item.finished", {**gate, "status": "awaiting_approval"}))
            rows.append((t, "run.paused", {"reason": "approval"}))
            t += 3600
            rows.append((t, "approval.granted", {"key": "verify/gate:ok", "by": "a"}))
            rows.append((t, "run.resumed", {"after": "paused"}))
            rows.append((t, "item.finished", {**gate, "status": "passed"}))
        rows.append((t, "phase.finished", {"phase": phase, "status": "succeeded"}))
        finish[phase] = t
    end = max(finish.values())
    rows.append((end, "run.finished", {"status": "succeeded"}))
    events = [StoredEvent(seq, ts, kind, data) for seq, (ts, kind, data) in enumerate(rows, 1)]
    record = RunRecord(
        id=f"run-{n:06}",
        plan_name="bench",
        plan_path="plan.yaml",
        plan_sha256="",
        plan_text=PLAN,
        lock_name="bench",
        idempotency_key=None,
        status="succeeded",
        created_at=start,
        updated_at=end,
        finished_at=end,
        owner=None,
        options={},
        summary={},
        last_seq=len(events),
    )
    return record, events


def sqlite_read(
    runs: list[tuple[RunRecord, list[StoredEvent]]],
) -> tuple[float, float, tuple[float, float]]:
    """Seconds per run to read history through a real SQLite store: the first read (journals,
    digests computed and saved), a read from the digests; and read + fit + estimate, whole."""
    plan = load_plan_text(PLAN, Path("plan.yaml")).plan
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStore(Path(directory))
        try:
            for record, events in runs:
                store.create_run(
                    run_id=record.id,
                    plan_name="bench",
                    plan_path="plan.yaml",
                    plan_sha256="x",
                    plan_text=PLAN,
                    lock_name="bench",
                    idempotency_key=None,
                    options={},
                    phases=list(PHASES),
                    needs={k: list(v) for k, v in PHASES.items()},
                    owner=Owner.me(),
                    ts=record.created_at,
                )
                state = store.load_state(record.id)
                store.append(state, [(e.type, e.data, e.ts) for e in events[1:]], durable=False)
            began = time.perf_counter()
            first = read_history(store, "bench")
            lazily = time.perf_counter() - began
            began = time.perf_counter()
            found = read_history(store, "bench")
            digested = time.perf_counter() - began
            began, cpu = time.perf_counter(), time.process_time()
            fit(plan, read_history(store, "bench")).models.estimate()
            whole = (time.perf_counter() - began, time.process_time() - cpu)
        finally:
            store.close()
    assert len(found) == len(first) == len(runs) and found == first
    return lazily / len(runs), digested / len(runs), whole


def main(runs: int = 10_000, sqlite_runs: int = 500) -> None:
    rng = random.Random(13)
    journals, t = [], 1_000_000.0
    for n in range(runs):
        record, events = journal(n, rng, t)
        journals.append((record, events))
        t = events[-1].ts + 60
    plan = load_plan_text(PLAN, Path("plan.yaml")).plan

    began = time.perf_counter()
    history = [durations(record, events) for record, events in journals]
    read = time.perf_counter() - began
    rows = [
        HistoryRow(r.id, "bench", r.status, r.created_at, r.updated_at, r.last_seq, d)
        for (r, _), h in zip(journals, history, strict=True)
        for d in [json.loads(dump_digest(to_digest(h)))]
    ]
    began = time.perf_counter()
    digested = [from_digest(row) for row in rows]
    from_digests = time.perf_counter() - began
    assert digested == history
    began = time.perf_counter()
    fitted = fit(plan, history)
    fitting = time.perf_counter() - began
    began = time.perf_counter()
    run = fitted.models.estimate()[2]
    estimating = time.perf_counter() - began
    total = from_digests + fitting + estimating
    print(f"estimate over {runs} runs ({len(fitted.admission.admitted)} admitted):")
    print(f"  durations from journals (once per run, into its digest): {read * 1000:.0f} ms")
    print(f"  durations from digests: {from_digests * 1000:.0f} ms")
    print(f"  calibration rule + fit: {fitting * 1000:.0f} ms")
    print(f"  estimates + Monte Carlo (10,000 draws): {estimating * 1000:.0f} ms")
    print(f"  total: {total:.3f} s (goal ≤ {GOAL:g} s: ratio {total / GOAL:.2f})")
    print(f"  run p50 {run.p50:.1f} s, 90% {run.low:.1f}–{run.high:.1f} s")
    began = time.perf_counter()
    report = backtest(plan, history)
    spent = time.perf_counter() - began
    scores = {s["kind"]: s for s in report.as_dict()["scores"]}
    print(
        f"backtest (--calibration) over {runs} runs: {spent:.2f} s; "
        + "; ".join(f"{k} MAE {v['mae_pct']}%, coverage {v['coverage']}" for k, v in scores.items())
    )
    if sqlite_runs:
        lazily, digested, whole = sqlite_read(journals[:sqlite_runs])
        print(
            f"reading history through SQLite: first read {lazily * 1e6:.0f} µs per run "
            f"(journals; digests computed and saved), then {digested * 1e6:.0f} µs per run "
            f"from digests ({sqlite_runs} runs; 10,000 runs ≈ {lazily * 10_000:.2f} s once, "
            f"then {digested * 10_000:.2f} s)"
        )
        # CPU time beside wall time: on a shared, loaded machine the wall time waits for a core.
        print(
            f"read_history + fit + estimate through SQLite, {sqlite_runs} runs: "
            f"{whole[0]:.3f} s wall, {whole[1]:.3f} s CPU (goal ≤ {GOAL:g} s for 10,000)"
        )


PROJECTED = """\
version: 1
name: bench
estimate:
  calibration: "run_kind in ['baseline', 'hotfix'] && validation_pass && !sandbox"
budget:
  duration: 10m
  runway: [2m, 1m]
  pause_above: 125%
  resources:
    tokens: {limit: 100000, runway: [5000], estimate: {verify/three: {p50: 3000, p90: 5000}}}
phases:
"""
PROJECTED += PLAN.split("phases:\n", 1)[1]


def _timed(call: Any, repeat: int) -> float:
    """Median seconds of ``repeat`` calls (the median: a loaded machine's outliers aside)."""
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        spent.append(time.perf_counter() - began)
    return sorted(spent)[len(spent) // 2]


def _ab(before: Any, after: Any, repeat: int) -> tuple[float, float]:
    """Median CPU seconds of ``before`` and of ``after``, called alternately ``repeat`` times
    each (so both see the same load)."""
    spent: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for call, out in ((before, spent[0]), (after, spent[1])):
            began = time.process_time()
            call()
            out.append(time.process_time() - began)
    return sorted(spent[0])[repeat // 2], sorted(spent[1])[repeat // 2]


def step_cost(steps: int = 40) -> float:
    """Seconds the engine spends per ``true`` step (spawn, journal, logs) on SQLite."""
    import io

    from phasegate.engine import session
    from phasegate.plan.loader import load_plan

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "steps.yaml"
        body = "".join(f"      - {{id: s{i}, run: 'true'}}\n" for i in range(steps))
        path.write_text(f"version: 1\nname: steps\nphases:\n  - id: p\n    steps:\n{body}")
        store = SqliteStore(Path(directory) / "state")
        try:
            options = session.RunOptions(console_stream=io.StringIO(), quiet=True)
            began = time.perf_counter()
            _, status, _ = session.start(store, load_plan(path), options)
            spent = time.perf_counter() - began
        finally:
            store.close()
    assert status == "succeeded", status
    return spent / steps


def projection(history_runs: int = 1_000, padding: int = 5_000, repeat: int = 9) -> None:
    """Per-projection costs of a live run (see the module's docstring)."""
    from phasegate.engine import runway
    from phasegate.estimate import fitcache, remaining
    from phasegate.server.api.runs import run_estimate
    from phasegate.server.dashboard.runway import runway_panel

    rng = random.Random(29)
    plan = load_plan_text(PROJECTED, Path("plan.yaml")).plan
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStore(Path(directory))
        try:
            t = 1_000_000.0
            for n in range(history_runs):
                record, events = journal(n, rng, t)
                t = events[-1].ts + 60
                _write(store, record, events, PROJECTED)
            read_history(store, "bench")  # digests computed and saved, once
            # The live run: its first phases done, the rest to come, a long journal.
            record, events = journal(history_runs, rng, time.time() - 120)
            cut = next(
                i
                for i, e in enumerate(events)
                if e.type == "phase.started" and e.data["phase"] == "verify"
            )
            live = events[:cut]
            record = RunRecord(**{**record.__dict__, "id": "live", "status": "running"})
            _write(store, record, live, PROJECTED)
            state = store.load_state("live")
            pad = [("warning", {"message": f"note {i}"}, live[-1].ts) for i in range(padding)]
            for chunk in range(0, len(pad), 1_000):
                store.append(state, pad[chunk : chunk + 1_000], durable=False)
            journal_events = len(store.events("live"))
            models = fit(plan, read_history(store, "bench", limit=1_000)).models

            def engine_duration() -> None:
                found = store.events("live")
                left = remaining(models, found, time.time(), samples=2_000)
                passed, hold = runway.journalled(found)
                runway.runway_of(
                    plan.budget, left.elapsed, left.estimate.p50, left.p90, passed, hold
                )

            live_state = store.load_state("live")  # the engine holds it in memory

            def engine_resources() -> None:
                runway.resource_runways(plan, [], live_state, [])

            live_record = store.get_run("live")

            def uncached(call: Any) -> None:
                fitcache.clear()  # what every projection cost before the fit was cached
                call()

            costs = {
                "engine: duration projection (journal read + 2,000 draws)": _timed(
                    engine_duration, repeat
                ),
                "engine: journal read alone": _timed(lambda: store.events("live"), repeat),
                "engine: resource projection (state, per finished step)": _timed(
                    engine_resources, repeat
                ),
            }
            # Before and after side by side: interleaved, CPU time (other sessions' load
            # moves wall time by 2x between two runs of the same thing).
            panel = _ab(
                lambda: uncached(lambda: runway_panel(store, "live")),
                lambda: runway_panel(store, "live"),
                repeat,
            )
            api = _ab(
                lambda: uncached(lambda: run_estimate(store, live_record)),
                lambda: run_estimate(store, live_record),
                repeat,
            )
            costs[
                "dashboard runway panel, re-fitted, CPU (history + fit + 2,000 draws + resources)"
            ] = panel[0]
            costs[
                "dashboard runway panel, fit cached, CPU (version check + 2,000 draws + resources)"
            ] = panel[1]
            costs["GET …/estimate, re-fitted, CPU (10,000 draws)"] = api[0]
            costs["GET …/estimate, fit cached, CPU (10,000 draws)"] = api[1]
            # The live run's journal folded again at each projection (the fit cached) against
            # the fold kept with its cursor (server/livefold.py), the run appending a few
            # events between projections as a working run does.
            refold = _live_ab(store, lambda: runway_panel(store, "live"), repeat)
            refold_api = _live_ab(store, lambda: run_estimate(store, live_record), repeat)
            fold_only = _live_ab(store, lambda: _fold_only(store, live_record), repeat)
            engine = _engine_ab(store, plan, models, repeat)
        finally:
            store.close()
    step = step_cost()
    print(
        f"projection of a live run: {history_runs} finished runs of its plan, its own journal "
        f"{journal_events} events; one `true` step costs the engine {step * 1000:.1f} ms"
    )
    for what, spent in costs.items():
        print(f"  {what}: {spent * 1000:.1f} ms ({spent / step:.2f}× a step)")
    names = list(costs)
    for before, after in ((names[3], names[4]), (names[5], names[6])):
        ratio = costs[before] / costs[after]
        print(f"  {after.split(',')[0]}: re-fitted / fit cached = {ratio:.1f}×")
    print(
        f"  the live run's journal ({journal_events} events, {LIVE_APPENDS} appended between "
        "projections), fit cached, CPU: re-folded at each projection / folded incrementally"
    )
    for what, (before, after) in (
        ("journal fold alone (read + timeline + marks + state)", fold_only),
        ("dashboard runway panel (2,000 draws)", refold),
        ("GET …/estimate (10,000 draws)", refold_api),
        ("engine's duration projection (BudgetWatch, 2,000 draws)", engine),
    ):
        print(f"    {what}: {before * 1000:.1f} ms / {after * 1000:.1f} ms = {before / after:.1f}×")


# Events a working run appends between two projections of the incremental-fold comparison.
LIVE_APPENDS = 4


def _fold_only(store: SqliteStore, record: RunRecord) -> None:
    from phasegate.server import livefold

    with livefold.folded(store, record):
        pass


def _live_ab(store: SqliteStore, project: Any, repeat: int) -> tuple[float, float]:
    """Median CPU seconds of ``project`` with the live folds dropped before each call (the
    journal read and folded whole, as every projection did before server/livefold.py) and
    with them kept (only the events appended since folded), interleaved; before each call
    the live run appends ``LIVE_APPENDS`` events (not timed). A re-folded call leaves its
    fold kept and current, so the kept call after it folds only its own appends."""
    from phasegate.server import livefold

    project()  # the kept fold starts where a watched run's would: folded once
    return _appending_ab(store, project, project, repeat, prepare_before=livefold.clear)


def _engine_ab(store: SqliteStore, plan: Any, models: Any, repeat: int) -> tuple[float, float]:
    """The engine's own duration projection (``BudgetWatch``), median CPU seconds: as it was
    (the events read since the last look appended to a list, the whole list folded into a
    timeline again at each projection) against the timeline kept and folded on (only the
    events since; the projection gets a copy), interleaved, ``LIVE_APPENDS`` events appended
    before each call (not timed)."""
    from types import SimpleNamespace

    from phasegate.engine.budgets import BudgetWatch
    from phasegate.estimate import remaining

    runner: Any = SimpleNamespace(
        ctx=SimpleNamespace(plan=plan), store=store, state=SimpleNamespace(run_id="live")
    )
    watch = BudgetWatch(runner)
    watch._durations = models
    kept: list[StoredEvent] = list(store.events("live"))

    def before() -> None:
        fresh = store.events_after("live", kept[-1].seq)
        kept.extend(fresh)
        remaining(models, list(kept), time.time(), samples=2_000)

    def after() -> None:
        watch._duration(watch._journal())

    after()  # the kept timeline starts where a watched run's would: folded once
    return _appending_ab(store, before, after, repeat)


def _appending_ab(
    store: SqliteStore,
    before: Any,
    after: Any,
    repeat: int,
    prepare_before: Any = None,
) -> tuple[float, float]:
    """Median CPU seconds of ``before`` and of ``after``, called alternately ``repeat`` times
    each; before each call the live run appends ``LIVE_APPENDS`` events, and before each
    ``before`` ``prepare_before`` runs (neither timed)."""
    state = store.load_state("live")
    spent: tuple[list[float], list[float]] = ([], [])
    for n in range(repeat):
        for call, prepare, out in ((before, prepare_before, spent[0]), (after, None, spent[1])):
            ts = time.time()
            notes = [("warning", {"message": f"more {n}"}, ts) for _ in range(LIVE_APPENDS)]
            store.append(state, notes, durable=False)
            if prepare is not None:
                prepare()
            began = time.process_time()
            call()
            out.append(time.process_time() - began)
    return sorted(spent[0])[repeat // 2], sorted(spent[1])[repeat // 2]


def _write(store: SqliteStore, record: RunRecord, events: list[StoredEvent], text: str) -> None:
    store.create_run(
        run_id=record.id,
        plan_name="bench",
        plan_path="plan.yaml",
        plan_sha256="x",
        plan_text=text,
        lock_name=f"bench-{record.id}",
        idempotency_key=None,
        options={},
        phases=list(PHASES),
        needs={k: list(v) for k, v in PHASES.items()},
        owner=Owner.me(),
        ts=record.created_at,
    )
    state = store.load_state(record.id)
    store.append(state, [(e.type, e.data, e.ts) for e in events[1:]], durable=False)


def cli(runs: int = 10_000, repeat: int = 3) -> None:
    """``phasegate estimate PLAN`` end to end, a fresh process each time, over a real SQLite
    journal holding ``runs`` finished runs of the plan: wall time and the child's CPU, beside
    ``phasegate --version`` (the interpreter's and the CLI's start-up) measured the same way.
    The first call computes and saves each run's durations digest (what a finished run's
    first reader does once); the later calls read the digests."""
    import resource
    import subprocess
    import sys

    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state"
        plan_path = Path(directory) / "plan.yaml"
        plan_path.write_text(PLAN, encoding="utf-8")
        store = SqliteStore(state)
        try:
            t = 1_000_000.0
            for n in range(runs):
                record, events = journal(n, rng, t)
                t = events[-1].ts + 60
                _write(store, record, events, PLAN)
        finally:
            store.close()
        base = [sys.executable, "-m", "phasegate", "--state-dir", str(state)]

        def once(argv: list[str]) -> tuple[float, float, str]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return wall, cpu, done.stdout

        print(f"phasegate estimate over {runs} finished runs in a real SQLite journal:")
        wall, cpu, out = once([*base, "estimate", str(plan_path), "--json"])
        admitted = json.loads(out)["calibration"]
        print(f"  first call (digests computed and saved): {wall:.2f} s wall, {cpu:.2f} s CPU")
        print(f"  calibration: {admitted}")
        estimates = [once([*base, "estimate", str(plan_path)]) for _ in range(repeat)]
        versions = [once([*base, "--version"]) for _ in range(repeat)]
        est_wall = statistics.median(w for w, _, _ in estimates)
        est_cpu = statistics.median(c for _, c, _ in estimates)
        ver_wall = statistics.median(w for w, _, _ in versions)
        ver_cpu = statistics.median(c for _, c, _ in versions)
        print(
            f"  then (median of {repeat}): {est_wall:.2f} s wall, {est_cpu:.2f} s CPU; "
            f"`phasegate --version` {ver_wall:.2f} s wall, {ver_cpu:.2f} s CPU; "
            f"the estimate beyond start-up {est_wall - ver_wall:.2f} s wall "
            f"(goal ≤ {GOAL:g} s: ratio {(est_wall - ver_wall) / GOAL:.2f}), "
            f"the whole command {est_wall:.2f} s (ratio {est_wall / GOAL:.2f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--sqlite-runs", type=int, default=500)
    parser.add_argument("--projection", action="store_true", help="only the projection cost")
    parser.add_argument("--history", type=int, default=1_000)
    parser.add_argument("--padding", type=int, default=5_000)
    parser.add_argument("--cli", action="store_true", help="only `phasegate estimate` end to end")
    args = parser.parse_args()
    if args.cli:
        cli(args.runs)
    elif args.projection:
        projection(args.history, args.padding)
    else:
        main(args.runs, args.sqlite_runs)
        projection(args.history, args.padding)
