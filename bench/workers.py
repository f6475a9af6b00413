"""Workers on one PostgreSQL (issue 12, Performance): throughput with 1, 2 and 4 `phasegate
worker` processes, claim latency, and takeover time after a worker's kill -9.

    uv run python bench/workers.py              # 200 runs of 20 steps per worker count, 20 kills
    uv run python bench/workers.py --quick      # 40 runs, 6 kills
    uv run python bench/workers.py --json out.json

Everything runs on this machine: a throwaway PostgreSQL cluster (tests/store/pg_cluster.py:
127.0.0.1, a port picked here, ``fsync=off``, stopped at the end), real `phasegate worker`
processes (ended by their pids), runs queued with the library calls `phasegate submit` makes.

- **Runs per second**: N runs of S steps (``/usr/bin/true``) queued at once, timed from the
  first queued to the last finished, for 1, 2 and 4 workers (``--max-runs 4`` each), side by
  side in one process. On 2 shared cores more workers mostly add contention: the figure says
  what the queue and the fence cost, not how a fleet of machines scales.
- **Claim latency**: from a run's creation (queued) to its ``run.started`` entry, p50/p95, in
  the 1-worker case with the queue idle (runs queued one at a time, each after the last
  finished), so it measures dispatch, not queueing behind other runs.
- **Takeover time**: a run with a long step; its worker is SIGKILLed; time from the kill to the
  ``run.resumed`` entry written by another worker, p50/p95 over ``--kills`` kills, with the
  default ``--takeover-within 15`` (the bound being measured).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.store.pg_cluster import Cluster, make_template, start_cluster  # noqa: E402

from phasegate.engine.session import RunOptions, create  # noqa: E402
from phasegate.plan.loader import load_plan  # noqa: E402
from phasegate.server.queue import Dispatcher, payload  # noqa: E402
from phasegate.store.postgres import PostgresStore  # noqa: E402


def _parent(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1])
    except (OSError, ValueError, IndexError):
        return -1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, cluster: Cluster, work: Path) -> None:
        self.cluster = cluster
        self.work = work
        self.count = 0

    def database(self) -> str:
        self.count += 1
        name = f"bench_{self.count}"
        with psycopg.connect(self.cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE phasegate_template")
        return self.cluster.url(name)

    def plans(self, tag: str, runs: int, steps: int, step: str) -> list[Path]:
        directory = self.work / tag
        directory.mkdir()
        out = []
        for n in range(runs):
            body = "".join(f"      - name: s{k}\n        run: {step}\n" for k in range(steps))
            path = directory / f"p{n}.yaml"
            path.write_text(
                f"version: 1\nname: {tag}-{n}\nphases:\n  - id: main\n    steps:\n{body}"
            )
            out.append(path)
        return out

    def workers(
        self, url: str, count: int, state: Path, *extra: str
    ) -> list[subprocess.Popen[bytes]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        env["PHASEGATE_STORE"] = url
        procs = []
        for n in range(count):
            log = open(self.work / f"worker-{self.count}-{n}.log", "ab")  # noqa: SIM115
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
                        *extra,
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.work,
                )
            )
        return procs

    @staticmethod
    def submit(url: str, state: Path, plans: list[Path]) -> list[str]:
        store = PostgresStore(url, state_dir=state)
        dispatcher = Dispatcher(url, "bench")
        try:
            ids = []
            for plan in plans:
                run_id, _ = create(store, load_plan(str(plan)), RunOptions(started_by="bench"))
                dispatcher.defer(payload(run_id, "resume", "bench"))
                ids.append(run_id)
            return ids
        finally:
            dispatcher.close()
            store.close()

    @staticmethod
    def wait_finished(url: str, ids: list[str], timeout: float) -> float:
        deadline = time.monotonic() + timeout
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM runs WHERE id = ANY(%s) AND status IN"
                    " ('succeeded','failed','rolled_back','rollback_failed')",
                    (ids,),
                ).fetchone()
                if row is not None and row[0] == len(ids):
                    return time.monotonic()
                time.sleep(0.1)
        raise SystemExit(f"runs did not finish within {timeout}s")

    @staticmethod
    def stop(procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)

    def throughput(self, workers: int, runs: int, steps: int) -> dict[str, float]:
        url = self.database()
        state = self.work / f"state-tp{workers}"
        procs = self.workers(url, workers, state, "--max-runs", "4")
        try:
            time.sleep(3)  # the workers are up and listening
            plans = self.plans(f"tp{workers}", runs, steps, "/usr/bin/true")
            started = time.monotonic()
            ids = self.submit(url, state, plans)
            ended = self.wait_finished(url, ids, 3600)
        finally:
            self.stop(procs)
        seconds = ended - started
        return {"workers": workers, "runs": runs, "seconds": seconds, "runs_per_s": runs / seconds}

    def claim_latency(self, samples: int) -> list[float]:
        url = self.database()
        state = self.work / "state-claim"
        procs = self.workers(url, 1, state, "--max-runs", "4")
        out = []
        try:
            time.sleep(3)
            for n, plan in enumerate(self.plans("claim", samples, 1, "/usr/bin/true")):
                (run_id,) = self.submit(url, state, [plan])
                self.wait_finished(url, [run_id], 120)
                with psycopg.connect(url, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT (SELECT ts FROM events WHERE run_id = %s AND type ="
                        " 'run.started') - created_at FROM runs WHERE id = %s",
                        (run_id, run_id),
                    ).fetchone()
                assert row is not None, n
                out.append(float(row[0]))
        finally:
            self.stop(procs)
        return out

    def takeover(self, kills: int) -> list[float]:
        url = self.database()
        state = self.work / "state-takeover"
        procs = self.workers(url, 2, state, "--max-runs", "2")
        out = []
        try:
            time.sleep(3)
            for n, plan in enumerate(self.plans("takeover", kills, 1, "sleep 6")):
                (run_id,) = self.submit(url, state, [plan])
                owner = self._owner_worker(url, run_id, procs)
                killed_at = time.time()
                os.kill(procs[owner].pid, signal.SIGKILL)
                procs[owner].wait(timeout=30)
                procs[owner] = self.workers(url, 1, state, "--max-runs", "2")[0]
                deadline = time.monotonic() + 120
                resumed = None
                while resumed is None and time.monotonic() < deadline:
                    with psycopg.connect(url, autocommit=True) as conn:
                        row = conn.execute(
                            "SELECT min(ts) FROM events WHERE run_id = %s AND type = 'run.resumed'",
                            (run_id,),
                        ).fetchone()
                    resumed = row[0] if row is not None else None
                    time.sleep(0.05)
                if resumed is None:
                    raise SystemExit(f"kill {n}: run {run_id} was not taken over in 120 s")
                out.append(float(resumed) - killed_at)
                self.wait_finished(url, [run_id], 120)
        finally:
            self.stop(procs)
        return out

    @staticmethod
    def _owner_worker(url: str, run_id: str, procs: list[subprocess.Popen[bytes]]) -> int:
        """The index of the worker whose child owns the run, once it is running."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT owner_pid FROM runs WHERE id = %s AND status = 'running'", (run_id,)
                ).fetchone()
            if row is not None and row[0] is not None:
                parent = _parent(int(row[0]))
                for index, proc in enumerate(procs):
                    if proc.pid == parent:
                        return index
            time.sleep(0.05)
        raise SystemExit(f"run {run_id} never ran under a worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    runs = args.runs or (40 if args.quick else 200)
    kills = args.kills or (6 if args.quick else 20)
    cluster = start_cluster()
    results: dict[str, Any] = {}
    try:
        make_template(cluster)
        with tempfile.TemporaryDirectory(prefix="phasegate-bench-workers-") as tmp:
            bench = Bench(cluster, Path(tmp))
            results["throughput"] = [bench.throughput(w, runs, args.steps) for w in (1, 2, 4)]
            claims = bench.claim_latency(20 if args.quick else 50)
            results["claim_latency_s"] = {"p50": pct(claims, 0.5), "p95": pct(claims, 0.95)}
            takeovers = bench.takeover(kills)
            results["takeover_s"] = {
                "p50": pct(takeovers, 0.5),
                "p95": pct(takeovers, 0.95),
                "max": max(takeovers),
                "kills": len(takeovers),
                "bound": 15.0,
            }
    finally:
        cluster.stop()
    print(f"workers on one PostgreSQL ({runs} runs x {args.steps} steps per worker count)")
    base = results["throughput"][0]["runs_per_s"]
    for row in results["throughput"]:
        print(
            f"  {row['workers']} worker(s): {row['runs_per_s']:.2f} runs/s "
            f"({row['seconds']:.1f} s; {row['runs_per_s'] / base:.2f}x one worker)"
        )
    c = results["claim_latency_s"]
    print(f"  claim latency (queued -> run.started): p50 {c['p50']:.3f} s, p95 {c['p95']:.3f} s")
    t = results["takeover_s"]
    print(
        f"  takeover after kill -9 ({t['kills']} kills): p50 {t['p50']:.2f} s, "
        f"p95 {t['p95']:.2f} s, max {t['max']:.2f} s (bound {t['bound']:g} s)"
    )
    print(f"  median takeover / bound: {statistics.median([t['p50'], t['p95']]) / 15:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
