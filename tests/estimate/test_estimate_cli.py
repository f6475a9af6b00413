"""`phasegate estimate`, the ETA in `phasegate plan`, and a live run's remaining time, over
real journals (SQLite, written with chosen timings)."""

from __future__ import annotations

import json
import math
import random
import re
import time
from pathlib import Path

from phasegate.estimate import fit, read_history, remaining
from phasegate.estimate.resources import amount_words
from phasegate.plan.loader import load_plan_text
from phasegate.run import events as ev
from phasegate.store.memory import MemoryStore
from phasegate.store.process import Owner
from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan
from tests.estimate.journals import Timeline, write_run

PLAN = """
version: 1
name: web
estimate:
  calibration: "status == 'succeeded' && !sandbox"
phases:
  - id: build
    steps:
      - {id: compile, run: make, estimate: {p50: 2m, p90: 5m}}
  - id: ship
    needs: [build]
    steps:
      - {id: upload, run: ./upload}
"""


def history(state: Path, runs: int, *, seed: int = 3) -> None:
    rng = random.Random(seed)
    store = SqliteStore(state)
    try:
        t = 1_000_000.0
        for n in range(runs):
            steps = {
                "build": [("compile", rng.lognormvariate(math.log(60), 0.2))],
                "ship": [("upload", rng.lognormvariate(math.log(30), 0.2))],
            }
            sandbox = n % 5 == 4
            t = write_run(
                store, "web", PLAN, Timeline(f"r{n:03}", t + 1, steps, vars={"sandbox": sandbox})
            )
    finally:
        store.close()


def test_with_no_history_the_estimate_is_the_plans_hint(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    shown = cli("estimate", str(plan), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    compile_ = next(s for s in data["steps"] if s["key"] == "build/compile")
    assert compile_["p50"] == 120.0 and compile_["source"] == "hint" and compile_["runs"] == 0
    assert data["calibration"] == {
        "rule": "status == 'succeeded' && !sandbox",
        "admitted": 0,
        "refused": 0,
        "errors": {},
    }
    text = cli("estimate", str(plan)).stdout
    assert "step compile: p50 2m00s" in text and "from the plan's hint" in text


def test_estimate_learns_from_admitted_runs_and_reports_calibration(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    history(cli.state_dir, 60)
    data = json.loads(cli("estimate", str(plan), "--json", "--calibration").stdout)
    assert data["calibration"]["admitted"] == 48 and data["calibration"]["refused"] == 12
    compile_ = next(s for s in data["steps"] if s["key"] == "build/compile")
    assert compile_["source"] == "history" and compile_["runs"] == 48
    assert 50 < compile_["p50"] < 72  # the runs took ~60 s, the hint said 120 s
    low, high = data["run"]["interval"]
    assert low < data["run"]["p50"] < high and 70 < data["run"]["p50"] < 110
    scores = {s["kind"]: s for s in data["backtest"]["scores"]}
    assert scores["step"]["predictions"] == 2 * 45 and scores["step"]["mae_pct"] is not None
    text = cli("estimate", str(plan), "--calibration").stdout
    assert "48 of 60 finished runs admitted" in text
    assert "MAE" in text and "interval covered" in text


def test_plan_shows_the_eta(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    assert "ETA: p50" in cli("plan", str(plan)).stdout
    history(cli.state_dir, 10)
    shown = cli("plan", str(plan))
    assert "ETA: p50" in shown.stdout and "from 8 past runs" in shown.stdout
    data = json.loads(cli("plan", str(plan), "--json").stdout)
    assert data["eta"]["admitted"] == 8 and data["eta"]["estimate"]["kind"] == "run"


def test_bad_hints_and_rules_are_located(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: web
        estimate: {calibration: "run_kind in ['a'"}
        phases:
          - id: build
            estimate: {p50: 5m, p90: 2m}
            steps:
              - {run: make, estimate: {p50: 2m, p90: soon}}
        """,
    )
    for verb in ("validate", "estimate"):
        shown = cli(verb, str(plan))
        assert shown.returncode == 2, shown.stdout
        assert "Traceback" not in shown.stderr
        assert "plan.yaml:3:" in shown.stderr and "invalid CEL expression" in shown.stderr
        assert "plan.yaml:6:" in shown.stderr and "p90 (120s) must be at least p50" in shown.stderr
        assert "plan.yaml:8:" in shown.stderr and "invalid duration 'soon'" in shown.stderr


def test_a_live_runs_remaining_time(tmp_path: Path) -> None:
    """Half-way through (build done, ship running for 10 s): what remains is ship's rest."""
    store = MemoryStore(tmp_path)
    t = 0.0
    for n in range(30):
        steps = {"build": [("compile", 60.0 + n % 3)], "ship": [("upload", 30.0 + n % 4)]}
        t = write_run(
            store, "web", PLAN, Timeline(f"r{n:03}", t + 1, steps, vars={"sandbox": False})
        )
    plan = load_plan_text(PLAN, tmp_path / "plan.yaml").plan
    models = fit(plan, read_history(store, "web")).models
    full = models.estimate(samples=2000)[2]
    live = MemoryStore(tmp_path / "live")
    write_run(
        live,
        "web",
        PLAN,
        Timeline("now", 5000.0, {"build": [("compile", 61.0)], "ship": [("upload", 30.0)]}),
    )
    events = live.events("now")
    cut = next(
        e.seq for e in events if e.type == "item.finished" and e.data["key"] == "ship/upload"
    )
    started = events[cut - 2].ts  # ship/upload started
    left = remaining(models, events[: cut - 1], started + 10.0, samples=2000)
    assert left.phases == {"build": "done", "ship": "running"}
    assert 15 < left.estimate.p50 < 25  # ~31 s of ship, 10 s spent
    assert left.estimate.high < full.p50
    assert left.elapsed == 71.0
    finished = remaining(models, events, started + 999.0, samples=100)
    assert finished.estimate.p50 == 0.0 and set(finished.phases.values()) == {"done"}


def test_status_shows_an_unfinished_runs_remaining_time(cli: CLI) -> None:
    history(cli.state_dir, 10)
    store = SqliteStore(cli.state_dir)
    try:
        now = time.time()
        store.create_run(
            run_id="live",
            plan_name="web",
            plan_path="plan.yaml",
            plan_sha256="x",
            plan_text=PLAN,
            lock_name="web-live",
            idempotency_key=None,
            options={},
            phases=["build", "ship"],
            needs={"ship": ["build"]},
            owner=Owner.me(),
            ts=now - 20,
        )
        ref = {"key": "build/compile", "kind": "step", "phase": "build", "name": "compile"}
        store.append(
            store.load_state("live"),
            [
                (ev.RunStarted(vars={"sandbox": False}), now - 20),
                (ev.PhaseStarted(phase="build"), now - 20),
                (ev.ItemStarted(**ref), now - 20),
            ],
            durable=False,
        )
    finally:
        store.close()
    shown = cli("status", "live")
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "remaining:" in x)
    assert "remaining: p50 " in line and "90% " in line
    # At least the 20 s the journal says; more when the (loaded) machine took long to answer.
    worked = re.search(r"work so far (?:(\d+)m)?(\d+(?:\.\d+)?)s", line)
    assert worked is not None, line
    assert 60 * int(worked.group(1) or 0) + float(worked.group(2)) >= 20.0
    finished = cli("status", "r000")
    assert "remaining:" not in finished.stdout


METERED = """\
version: 1
name: metered
budget:
  resources:
    tokens: {limit: 500, unit: tok, estimate: {work/c: {p50: 100, p90: 150}}}
    calls: {limit: 10}
phases:
  - id: work
    steps:
      - {name: a, run: 'echo "tokens=30" >> "$PHASEGATE_OUTPUT"'}
      - {name: b, run: 'echo "tokens=60" >> "$PHASEGATE_OUTPUT"'}
      - {name: c, run: "true"}
"""


def test_estimate_prints_each_resource_budgets_amount(cli: CLI) -> None:
    """Two real runs report tokens 30 (a) and 60 (b), c reports none but is hinted at 100:
    the run's tokens are ~190 with a 90 % interval around it, c learned from its hint; calls
    are reported by no step: 0 in --json, every step listed as not projected, and the text
    gives no amount (a 0 would read as a forecast)."""
    plan = write_plan(cli.cwd, METERED)
    for _ in range(2):
        assert cli("run", str(plan)).returncode == 0
    shown = cli("estimate", str(plan), "--json")
    assert shown.returncode == 0, shown.stderr
    tokens, calls = json.loads(shown.stdout)["resources"]
    assert (tokens["name"], tokens["output"], tokens["unit"], tokens["budget"]) == (
        "tokens",
        "tokens",
        "tok",
        500,
    )
    low, high = tokens["interval"]
    assert low < 190 < high and 170 < tokens["p50"] < 210 and tokens["p50"] <= tokens["p90"]
    assert high < 400 and tokens["level"] == 0.9 and tokens["unprojected"] == []
    assert (calls["p50"], calls["p90"], calls["interval"]) == (0, 0, [0, 0])
    assert calls["unit"] == "calls" and calls["unprojected"] == ["work/a", "work/b", "work/c"]

    text = cli("estimate", str(plan))
    assert text.returncode == 0, text.stderr
    said = (
        f"resource tokens: p50 {amount_words(tokens['p50'], 'tok')}  "
        f"90% {amount_words(low, None)}–{amount_words(high, 'tok')}  (budget 500 tok)"
    )
    assert said in text.stdout, text.stdout
    assert (
        "resource calls: not projected — no admitted run reported `calls` and no step has"
        " a hint (budget 10 calls); steps: work/a, work/b, work/c" in text.stdout
    )
    assert "p50 0 calls" not in text.stdout
