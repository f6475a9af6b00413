"""How promptly a parked run is resumed once it is due (issue 13 §3, issue 14 §5): `phasegate
serve` on SQLite and `phasegate worker`s on PostgreSQL, p50/p95 of due -> resumed.

    uv run python bench/park_pickup.py              # both; 12 lane hand-overs, 12 checks each
    uv run python bench/park_pickup.py --quick      # 6 and 6
    uv run python bench/park_pickup.py --only worker --json out.json

Everything runs on this machine: a `phasegate serve --workers 4` (127.0.0.1, a port picked
here, its own SQLite state) and two `phasegate worker --max-runs 2` on a throwaway PostgreSQL
cluster (tests/store/pg_cluster.py), all ended by their pids; the defaults `--park-after 3s
--park-lead 1.5s` everywhere.

- **Lane hand-over**: runs of one lane capped at 1 (a step of 1.5 s each) started at once;
  all but the first park while queued (the first holds its slot until all have parked, so a
  resume never waits for a free worker behind runs not parked yet). A parked run is due
  when the run holding the slot ends (its last journal entry).
- **Monitoring**: a run monitoring every 5 s parks between checks; its resume is due
  ``park-lead`` before each check. The check's own lateness (evaluated at minus its slot's
  time) is reported too: what a user sees.

Each resume is split in two: **dispatch**, from due to the start of the run's child process
(``python -m phasegate.server.job``, its start time read from /proc), what the server's watch
or the workers' queue cost; and **child**, from then to the ``run.resumed`` entry the child
writes (Python's start, imports, the claim): the same for every dispatch, and what
``--park-lead`` is there to cover.

Run the same script with ``PYTHONPATH=<an older src>`` for a before/after comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for extra in (BENCH, ROOT, ROOT / "examples"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from canary_lab.ports import free_port  # noqa: E402
from tests.store.pg_cluster import make_template, start_cluster  # noqa: E402

from phasegate.store.backends import open_journal  # noqa: E402
from phasegate.store.contract import JournalStore  # noqa: E402

EVERY = 5.0
LEAD = 1.5  # the defaults: --park-after 3s --park-lead 1.5s
PARKING = ("--park-after", "3s", "--park-lead", f"{LEAD}s")
HOLD = 1.5  # each lane run's step; the first holds its slot until every other one parked
TERMINAL = ("succeeded", "failed", "rolled_back", "rollback_failed", "aborted")


class Spawns:
    """When each run's child (``python -m phasegate.server.job ACTION RUN``) started, read
    from /proc every 20 ms (its start time in clock ticks since boot): what separates the
    dispatch (due -> child started) from the child's own start (-> its ``run.resumed``)."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[str, float]] = {}  # pid -> (run id, started at)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            boot = time.time() - float(Path("/proc/uptime").read_text().split()[0])
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit() or int(entry.name) in self.found:
                    continue
                try:
                    argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue
                if b"phasegate.server.job" not in argv or len(argv) < 5:
                    continue
                ticks = int(stat.rsplit(")", 1)[1].split()[19])
                self.found[int(entry.name)] = (argv[4].decode(), boot + ticks / self._tick)

    def before(self, run_id: str, ts: float) -> float | None:
        """The latest start of a child of ``run_id`` at or before ``ts``."""
        starts = [at for run, at in self.found.values() if run == run_id and at <= ts + 0.02]
        return max(starts) if starts else None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95)}


def lane_plan(n: int, runs: int) -> str:
    hold = HOLD if n else 4.0 + 1.2 * runs  # 4 worker slots, 3 s each before a run parks
    return (
        f"version: 1\nname: lane-{n}\nlane: L\nphases:\n  - id: work\n    steps:\n"
        f"      - run: sleep {hold}\n"
    )


def monitor_plan(checks: int) -> str:
    return (
        "version: 1\nname: watched\nphases:\n  - id: deploy\n    steps:\n      - run: 'true'\n"
        "monitor:\n  checks:\n    - {id: alive, command: 'true'}\n"
        f"  schedule: [{{every: {EVERY}s, for: {EVERY * checks}s}}]\n"
    )


def handovers(store: JournalStore, ids: list[str], spawns: Spawns) -> dict[str, list[float]]:
    """For each parked run's resume: seconds since the previous holder of the slot ended."""
    ends, resumes = [], []
    for run_id in ids:
        events = store.events(run_id)
        ends.append(events[-1].ts)
        resumes += [(run_id, e.ts) for e in events if e.type == "run.resumed"]
    out: dict[str, list[float]] = {"total": [], "dispatch": [], "child": []}
    for run_id, resumed in resumes:
        before = [end for end in ends if end <= resumed]
        if not before:
            continue
        due = max(before)
        out["total"].append(resumed - due)
        spawned = spawns.before(run_id, resumed)
        if spawned is not None:
            out["dispatch"].append(spawned - due)
            out["child"].append(resumed - spawned)
    return out


def monitoring(store: JournalStore, run_id: str, spawns: Spawns) -> dict[str, list[float]]:
    """Per resume: resumed - (slot time - lead), split at the child's start; per check:
    checked at - slot time."""
    events = store.events(run_id)
    started = next(e.data for e in events if e.type == "monitoring.started")
    anchor = float(started["at"])
    out: dict[str, list[float]] = {"total": [], "dispatch": [], "child": [], "late": []}
    pending: float | None = None
    for event in events:
        if event.type == "run.resumed":
            pending = event.ts
        elif event.type == "monitoring.checked":
            slot_at = anchor + EVERY * int(event.data["slot"])
            out["late"].append(float(event.data["at"]) - slot_at)
            if pending is not None:
                out["total"].append(pending - (slot_at - LEAD))
                spawned = spawns.before(run_id, pending)
                if spawned is not None:
                    out["dispatch"].append(spawned - (slot_at - LEAD))
                    out["child"].append(pending - spawned)
            pending = None
    return out


def figures(store: JournalStore, lanes: list[str], watched: str, spawns: Spawns) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, found in (
        ("lane", handovers(store, lanes, spawns)),
        ("monitor", monitoring(store, watched, spawns)),
    ):
        for part, values in found.items():
            out[f"{name}_{part}_s"] = summary(values) if values else None
    return out


def wait_terminal(store: JournalStore, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(store.get_run(run_id).status in TERMINAL for run_id in ids):
            return
        time.sleep(0.2)
    raise SystemExit(f"runs did not finish within {timeout}s")


def env_for(state: Path, store_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.update({"PHASEGATE_HOME": str(state), "NO_COLOR": "1"})
    if store_url:
        env["PHASEGATE_STORE"] = store_url
    return env


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", *args], env=env, cwd=cwd, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"phasegate {' '.join(args)}: {done.stderr[-800:]}")
    return done.stdout.strip()


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def bench_serve(work: Path, lanes: int, checks: int, spawns: Spawns) -> dict[str, Any]:
    state = work / "serve"
    state.mkdir()
    env = env_for(state, None)
    cli(env, state, "lane", "set", "L", "--max", "1")
    token = cli(env, state, "token", "create", "--name", "bench", "--role", "operator")
    port = free_port()
    argv = [sys.executable, "-m", "phasegate", "serve", "--host", "127.0.0.1", "--port"]
    argv += [str(port), "--workers", "4", "--log-level", "warning", *PARKING]
    with open(state / "server.log", "ab") as out:
        proc = subprocess.Popen(
            argv, cwd=state, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=30) as client:

            def start(text: str) -> str:
                created = client.post(f"{url}/api/v1/runs", json={"plan": text})
                assert created.status_code == 201, created.text
                run_id: str = created.json()["id"]
                return run_id

            store = open_journal(state)
            try:
                # One after the other: a resume never waits for a worker the other holds.
                watched = start(monitor_plan(checks))
                wait_terminal(store, [watched], 120 + EVERY * checks)
                ids = [start(lane_plan(n, lanes)) for n in range(lanes + 1)]
                wait_terminal(store, ids, 120 + 5 * lanes)
                return figures(store, ids, watched, spawns)
            finally:
                store.close()
    finally:
        stop([proc])


def bench_worker(
    work: Path, lanes: int, checks: int, spawns: Spawns, *, lead: bool = True
) -> dict[str, Any]:
    from phasegate.engine.session import RunOptions, create
    from phasegate.plan.loader import load_plan
    from phasegate.server.queue import Dispatcher, payload
    from phasegate.store.postgres import PostgresStore

    cluster = start_cluster()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        make_template(cluster)
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_park TEMPLATE phasegate_template")
        url = cluster.url("bench_park")
        state = work / "worker"
        state.mkdir()
        env = env_for(state, url)
        cli(env, state, "lane", "set", "L", "--max", "1")
        for n in range(2):
            with open(work / f"worker-{n}.log", "ab") as out:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "phasegate",
                            "--state-dir",
                            str(state),
                            "worker",
                            "--log-level",
                            "warning",
                            "--max-runs",
                            "2",
                            *(PARKING if lead else PARKING[:2]),
                        ],
                        env=env,
                        cwd=state,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        store = PostgresStore(url, state_dir=state)
        dispatcher = Dispatcher(url, "bench")
        try:

            def submit(text: str, name: str) -> str:
                path = work / f"{name}.yaml"
                path.write_text(text)
                run_id, _ = create(store, load_plan(str(path)), RunOptions(started_by="bench"))
                dispatcher.defer(payload(run_id, "resume", "bench"))
                return run_id

            time.sleep(2.0)  # the workers' start
            watched = submit(monitor_plan(checks), "watched")
            wait_terminal(store, [watched], 120 + EVERY * checks)
            ids = [submit(lane_plan(n, lanes), f"lane-{n}") for n in range(lanes + 1)]
            wait_terminal(store, ids, 120 + 5 * lanes)
            return figures(store, ids, watched, spawns)
        finally:
            dispatcher.close()
            store.close()
    finally:
        stop(procs)
        cluster.stop()


def show(name: str, found: dict[str, Any]) -> None:
    print(name)
    for what, label in (
        ("lane", "lane hand-over (holder ended -> parked run resumed)"),
        ("monitor", "monitoring resume (due = check - lead -> resumed)"),
    ):
        parts = []
        for part in ("total", "dispatch", "child"):
            value = found.get(f"{what}_{part}_s")
            if value is not None:
                parts.append(f"{part} p50 {value['p50']:+.3f} / p95 {value['p95']:+.3f} s")
        n = (found.get(f"{what}_total_s") or {}).get("n", 0)
        print(f"  {label}, n={n}: " + ("; ".join(parts) or "none (nothing parked)"))
    late = found.get("monitor_late_s")
    if late is not None:
        print(f"  check lateness (slot time -> evaluated): p50 {late['p50']:+.3f} / p95 "
              f"{late['p95']:+.3f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("serve", "worker"), default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--without-worker-lead",
        action="store_true",
        help="for a `phasegate worker` that has no --park-lead (a version before it)",
    )
    args = parser.parse_args()
    lanes = checks = 6 if args.quick else 12
    results: dict[str, Any] = {}
    spawns = Spawns()
    with tempfile.TemporaryDirectory(prefix="phasegate-bench-park-") as tmp:
        if args.only in (None, "serve"):
            (Path(tmp) / "s").mkdir()
            results["serve_sqlite"] = bench_serve(Path(tmp) / "s", lanes, checks, spawns)
            show("phasegate serve --workers 4 (SQLite)", results["serve_sqlite"])
        if args.only in (None, "worker"):
            (Path(tmp) / "w").mkdir()
            results["worker_postgres"] = bench_worker(
                Path(tmp) / "w", lanes, checks, spawns, lead=not args.without_worker_lead
            )
            show("2 x phasegate worker --max-runs 2 (PostgreSQL)", results["worker_postgres"])
    spawns.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
