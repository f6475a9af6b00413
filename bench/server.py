"""``phasegate serve`` under load: API latency, and what live watchers cost the engine.

    uv run python bench/server.py                 # the full section (~3 min)
    uv run python bench/server.py --quick         # fewer requests, 1 repetition (~1 min)
    uv run python bench/run.py --only server      # the same, inside the suite's report

Against a real ``phasegate serve`` subprocess on 127.0.0.1 (a free port, ``--workers 4``, a
fresh ``PHASEGATE_HOME``), with a bounded load generator (``httpx.AsyncClient``, one
connection per simulated client, bounded by a request count and a time cap):

1. ``GET /api/v1/runs/{id}`` of a finished 3-step run: 50 clients, 2,000 requests (quick
   500), after one unmeasured request per client.
2. ``POST /api/v1/runs`` with a tiny inline plan (one ``true`` step; a distinct plan name per
   start, since a plan's lock admits one live run, and a distinct ``Idempotency-Key``): 50
   clients, 300 starts (quick 100). The API answers once the run is created; the 4 workers
   then execute them. The bench waits (bounded) until every run is terminal and reports how
   many succeeded.
3. Engine overhead per step: ``python -m phasegate run`` (the CLI, same state directory) of a
   plan whose first step waits for a file, then N ``/usr/bin/true`` steps (500, quick 200),
   in three variants, interleaved round by round in rotated order, median of 3 (quick 1):

   - ``server, idle``: the server running, nobody watching;
   - ``server, 100 watchers``: 100 SSE clients signed in to the dashboard and connected to
     the run's ``/ui/runs/{id}/stream`` (they share one journal reader, ``dashboard/hub.py``);
   - ``no server``: the server stopped for that run.

   The first step is a barrier: the bench releases it once the run exists and (for the
   watched variant) every watcher has received its first update, so the watchers are there
   for every measured step. Per-step time is read from the journal: from the barrier step's
   ``item.finished`` to ``run.finished``, divided by N. Goal: watched / no server <= 1.2x.
   The watchers are cheap clients (they count updates, they parse nothing) in the bench's
   own process, on the same machine: their CPU is reported beside the server's.

Every process started here is stopped at the end, on failure too: the server, and any worker
still running (the bench is their subreaper while the section runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from measure import BenchError, child_env, log  # noqa: E402

EXAMPLES = BENCH.parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from canary_lab.ports import free_port  # noqa: E402
from canary_lab.process import descendants, reap, subreaper  # noqa: E402

GOAL_WATCHED_RATIO = 1.2
WORKERS = 4
CLIENTS = 50
HEALTH_ATTEMPTS = 300  # x 0.1 s
REQUEST_TIMEOUT = 30.0
TRUE = "/usr/bin/true"
BARRIER = (  # waits (bounded: 60 s) for the file named by $1; fails the run if it never comes
    '#!/bin/sh\ni=0\nwhile [ ! -e "$1" ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done\n'
    'test -e "$1"\n'
)
VARIANTS = ("server, idle", "server, 100 watchers", "no server")


@dataclass
class Settings:
    gets: int
    starts: int
    steps: int
    reps: int
    watchers: int = 100
    phase_cap: float = 90.0  # seconds for each load phase and for the runs to finish

    @classmethod
    def of(cls, quick: bool) -> Settings:
        if quick:
            return cls(gets=500, starts=100, steps=1000, reps=1)
        return cls(gets=2000, starts=300, steps=2000, reps=3)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def one_step_plan(name: str, steps: int = 1) -> str:
    lines = ["version: 1", f"name: {name}", "phases:", "  - id: only", "    steps:"]
    lines += [f"      - run: [{TRUE}]" for _ in range(steps)]
    return "\n".join(lines) + "\n"


def watched_plan(path: Path, barrier: Path, go: Path, steps: int) -> Path:
    lines = ["version: 1", "name: bench-watched", "phases:", "  - id: only", "    steps:"]
    lines += ["      - name: barrier", f"        run: [/bin/sh, {barrier}, {go}]"]
    lines += [f"      - run: [{TRUE}]" for _ in range(steps)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """While the section runs, orphaned workers come to this process; at its end, those still
    running get 10 s to finish their runs, then SIGKILL."""
    subreaper(True)
    try:
        yield
    finally:
        for _ in range(100):
            reap()
            if not descendants(os.getpid()):
                break
            time.sleep(0.1)
        for pid in descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            reap()
            if not descendants(os.getpid()):
                break
            time.sleep(0.1)
        subreaper(False)


@dataclass
class Server:
    """``phasegate serve`` on 127.0.0.1; startable and stoppable again on one state dir."""

    state: Path
    work: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in child_env().items() if not k.startswith("PHASEGATE_")}
        return {**env, "PHASEGATE_HOME": str(self.state), "NO_COLOR": "1"}

    def token(self, name: str, role: str) -> str:
        argv = [sys.executable, "-m", "phasegate", "token", "create", "--name", name]
        done = subprocess.run(
            [*argv, "--role", role],
            env=self.env(),
            cwd=self.work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"phasegate token create failed: {done.stderr[-500:]}")
        return done.stdout.strip()

    def start(self) -> None:
        argv = [sys.executable, "-m", "phasegate", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--workers", str(WORKERS), "--log-level", "warning"]
        with open(self.work / "server.log", "ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=self.work, env=self.env(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(HEALTH_ATTEMPTS):
            if self.proc.poll() is not None:
                tail = (self.work / "server.log").read_text(errors="replace")[-1500:]
                raise BenchError(f"phasegate serve exited {self.proc.returncode}\n{tail}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"phasegate serve did not answer /healthz in {HEALTH_ATTEMPTS / 10}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# -- 1 + 2: API latency under 50 concurrent clients ------------------------------------------
@dataclass
class Latencies:
    what: str
    samples: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU the server used during the load
    bench_cpu: float = 0.0  # and the load generator (this process)


@contextlib.asynccontextmanager
async def _clients(url: str, token: str, n: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``n`` clients of one keep-alive connection each, like ``n`` users. One client with
    ``n`` pooled connections cost the load generator 6 ms of CPU per request instead of 1 ms
    (httpx's pool), taken from the server on a 2-core machine: it measured the client."""
    async with contextlib.AsyncExitStack() as stack:
        made = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=url,
                    headers={"Authorization": f"Bearer {token}"},
                    limits=httpx.Limits(max_connections=1),
                    timeout=REQUEST_TIMEOUT,
                )
            )
            for _ in range(n)
        ]
        yield made


async def _load(
    clients: list[httpx.AsyncClient],
    result: Latencies,
    load: tuple[int, float],
    send: Any,
    ok: int,
    server_pid: int,
) -> None:
    """``clients`` loops sharing one counter: ``total`` requests at most, none started after
    ``cap`` seconds; ``send(client, i)`` makes request ``i``, ``ok`` is its success status."""
    total, cap = load
    numbers = iter(range(total))
    deadline = time.monotonic() + cap

    async def one_client(client: httpx.AsyncClient) -> None:
        for i in numbers:
            if time.monotonic() > deadline:
                result.errors["not sent: time cap"] += 1
                continue
            started = time.perf_counter()
            try:
                response = await send(client, i)
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            if response.status_code == ok:
                result.samples.append(elapsed)
            else:
                result.errors[f"HTTP {response.status_code}"] += 1

    server_cpu, bench_cpu = cpu_seconds(server_pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one_client(c) for c in clients))
    result.wall = time.perf_counter() - started
    result.server_cpu = cpu_seconds(server_pid) - server_cpu
    result.bench_cpu = time.process_time() - bench_cpu


async def measure_gets(server: Server, token: str, run_id: str, s: Settings) -> list[Latencies]:
    """One client alone (the reference: no queueing), then ``CLIENTS`` at once."""
    assert server.proc is not None
    path = f"/api/v1/runs/{run_id}"
    results = []
    for clients, total in ((1, s.gets // 10), (CLIENTS, s.gets)):
        result = Latencies(f"GET /api/v1/runs/{{id}}, {clients} client{'s' * (clients > 1)}")
        async with _clients(server.url, token, clients) as made:
            warm = Latencies("warm-up")  # opens every connection once
            get = lambda c, _: c.get(path)  # noqa: E731
            pid = server.proc.pid
            await _load(made, warm, (clients, s.phase_cap), get, 200, pid)
            await _load(made, result, (total, s.phase_cap), get, 200, pid)
        results.append(result)
    return results


async def measure_starts(server: Server, token: str, s: Settings, ids: list[str]) -> Latencies:
    assert server.proc is not None
    result = Latencies(f"POST /api/v1/runs (start), {CLIENTS} clients")
    batch = uuid.uuid4().hex[:8]

    async def start(client: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {"plan": one_step_plan(f"bench-start-{batch}-{i}")}
        key = {"Idempotency-Key": f"bench-{batch}-{i}"}
        response = await client.post("/api/v1/runs", json=body, headers=key)
        if response.status_code == 201:
            ids.append(response.json()["id"])
        return response

    async with _clients(server.url, token, CLIENTS) as made:
        await _load(made, result, (s.starts, s.phase_cap), start, 201, server.proc.pid)
    return result


def journal_statuses(state: Path, ids: list[str]) -> Counter[str]:
    uri = f"file:{state / 'phasegate.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        marks = ",".join("?" * len(ids))
        rows = db.execute(f"SELECT status FROM runs WHERE id IN ({marks})", ids).fetchall()
    return Counter(str(r[0]) for r in rows)


def wait_finished(state: Path, ids: list[str], cap: float) -> tuple[Counter[str], float]:
    """Poll (bounded by ``cap``) until every run is terminal; the statuses and the wait."""
    terminal = ("succeeded", "failed", "rolled_back", "rollback_failed")
    started = time.monotonic()
    while True:
        statuses = journal_statuses(state, ids) if ids else Counter()
        if sum(statuses[t] for t in terminal) == len(ids) or time.monotonic() - started > cap:
            return statuses, time.monotonic() - started
        time.sleep(0.2)


# -- 3: engine overhead with and without watchers --------------------------------------------
def newest_run(state: Path) -> str | None:
    db_path = state / "phasegate.db"
    if not db_path.exists():
        return None
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()
    return str(row[0]) if row else None


def per_step(state: Path, run_id: str, steps: int) -> float:
    """Seconds per step, from the barrier's ``item.finished`` to ``run.finished``."""
    from phasegate.store.sqlite import SqliteStore

    store = SqliteStore(state)
    try:
        events = store.events(run_id)
    finally:
        store.close()
    released = next(
        (ts for _, ts, t, d in events if t == "item.finished" and d.get("name") == "barrier"),
        None,
    )
    finished = [(ts, d) for _, ts, t, d in events if t == "run.finished"]
    if released is None or not finished:
        raise BenchError(f"run {run_id}: no barrier or no run.finished in the journal")
    if finished[-1][1].get("status") != "succeeded":
        raise BenchError(f"run {run_id} finished {finished[-1][1].get('status')}")
    return (finished[-1][0] - released) / steps


@dataclass
class EngineRun:
    per_step: float
    server_cpu: float | None  # seconds the server process used while the steps ran
    bench_cpu: float  # the same for this process (the watchers, when there are any)
    updates: int = 0  # SSE updates the watchers received in all
    received: int = 0  # bytes of them


async def _watch(
    client: httpx.AsyncClient, path: str, seen: list[int], index: int, received: list[int]
) -> None:
    async with client.stream("GET", path) as response:
        if response.status_code != 200:
            raise BenchError(f"{path}: HTTP {response.status_code}")
        tail = b""
        async for chunk in response.aiter_raw():
            data = tail + chunk
            received[0] += len(chunk)
            seen[index] += data.count(b"event: update") - tail.count(b"event: update")
            tail = data[-16:]


async def engine_run(
    server: Server | None, work: Path, state: Path, steps: int, watchers: int, cookie_token: str
) -> EngineRun:
    go = work / f"go-{uuid.uuid4().hex[:8]}"
    barrier = work / "barrier.sh"
    barrier.write_text(BARRIER)
    plan = watched_plan(work / "watched.yaml", barrier, go, steps)
    before = newest_run(state)
    env = {k: v for k, v in child_env().items() if not k.startswith("PHASEGATE_")}
    env.update(PHASEGATE_HOME=str(state), NO_COLOR="1")
    with open(work / "engine-run.log", "ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "phasegate", "run", str(plan), cwd=work, env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    tasks: list[asyncio.Task[None]] = []
    client: httpx.AsyncClient | None = None
    try:
        run_id = None
        for _ in range(600):  # the CLI's start-up: bounded, 60 s
            run_id = newest_run(state)
            if run_id is not None and run_id != before:
                break
            if proc.returncode is not None:
                raise BenchError(f"phasegate run exited {proc.returncode} before creating a run")
            await asyncio.sleep(0.1)
        else:
            raise BenchError("phasegate run created no run in 60 s")
        seen, received = [0] * watchers, [0]
        if watchers:
            assert server is not None
            limits = httpx.Limits(max_connections=watchers + 1)
            client = httpx.AsyncClient(base_url=server.url, limits=limits, timeout=None)
            login = await client.post("/ui/login", data={"token": cookie_token})
            if login.status_code != 303:
                raise BenchError(f"dashboard sign-in answered {login.status_code}")
            path = f"/ui/runs/{run_id}/stream"
            tasks = [
                asyncio.create_task(_watch(client, path, seen, i, received))
                for i in range(watchers)
            ]
            for _ in range(600):  # every watcher has its first update: bounded, 60 s
                if all(seen) or any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.1)
            for t in tasks:
                if t.done():
                    t.result()  # a watcher that failed raises here
            if not all(seen):
                raise BenchError(f"only {sum(map(bool, seen))} of {watchers} watchers connected")
        first, first_bytes = sum(seen), received[0]
        server_cpu = cpu_seconds(server.proc.pid) if server and server.proc else None
        bench_cpu = time.process_time()
        go.touch()
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout=120)
        except TimeoutError as exc:
            raise BenchError("phasegate run did not finish in 120 s") from exc
        if server_cpu is not None and server and server.proc:
            server_cpu = cpu_seconds(server.proc.pid) - server_cpu
        bench_cpu = time.process_time() - bench_cpu
        if rc != 0:
            raise BenchError(f"phasegate run exited {rc} (see {work / 'engine-run.log'})")
        return EngineRun(
            per_step(state, run_id, steps),
            server_cpu,
            bench_cpu,
            sum(seen) - first,
            received[0] - first_bytes,
        )
    finally:
        go.touch()  # a failed bench releases the barrier: the run ends, it is not left waiting
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if client is not None:
            await client.aclose()
        if proc.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=30)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# -- the section -----------------------------------------------------------------------------
@dataclass
class Results:
    gets: list[Latencies]
    starts: Latencies
    start_statuses: Counter[str]
    start_drain: float
    engine: dict[str, list[EngineRun]]
    steps: int
    notes: list[str] = field(default_factory=list)

    def engine_median(self, variant: str) -> float:
        return statistics.median(r.per_step for r in self.engine[variant])


def measure(work: Path, s: Settings) -> Results:
    work.mkdir(parents=True, exist_ok=True)
    state = work / "state"
    server = Server(state, work)
    with adopting_orphans():
        try:
            return _measure(server, work, state, s)
        finally:
            server.stop()


def _measure(server: Server, work: Path, state: Path, s: Settings) -> Results:
    operator = server.token("bench-operator", "operator")
    viewer = server.token("bench-viewer", "viewer")
    server.start()
    log(f"  phasegate serve on {server.url} (--workers {WORKERS})")

    # A finished run to read, and a warm server (imports, first plan load, first worker).
    ids: list[str] = []
    warm = httpx.post(
        server.url + "/api/v1/runs",
        json={"plan": one_step_plan("bench-read", 3)},
        headers={"Authorization": f"Bearer {operator}"},
        timeout=REQUEST_TIMEOUT,
    )
    if warm.status_code != 201:
        raise BenchError(f"starting the warm-up run answered {warm.status_code}: {warm.text}")
    read_id = warm.json()["id"]
    statuses, _ = wait_finished(state, [read_id], s.phase_cap)
    if statuses["succeeded"] != 1:
        raise BenchError(f"the warm-up run did not succeed: {dict(statuses)}")

    gets = asyncio.run(measure_gets(server, viewer, read_id, s))
    log(f"  {len(gets[-1].samples)} GETs in {gets[-1].wall:.1f}s")
    starts = asyncio.run(measure_starts(server, operator, s, ids))
    start_statuses, drain = wait_finished(state, ids, s.phase_cap + s.starts * 0.5)
    log(f"  {len(ids)} starts answered in {starts.wall:.1f}s, all finished {drain:.1f}s later")

    engine: dict[str, list[EngineRun]] = {v: [] for v in VARIANTS}
    notes: list[str] = []
    for rep in range(s.reps):
        order = list(VARIANTS[rep % 3 :] + VARIANTS[: rep % 3])
        for variant in order:
            watchers = s.watchers if variant == "server, 100 watchers" else 0
            if variant == "no server":
                server.stop()
            elif server.proc is None:
                server.start()
            target = server if server.proc is not None else None
            try:
                run = asyncio.run(engine_run(target, work, state, s.steps, watchers, viewer))
            except BenchError as exc:
                notes.append(f"{variant}, round {rep + 1}: {exc}")
                log(f"  [round {rep + 1}/{s.reps}] {variant}: FAILED {exc}")
                continue
            engine[variant].append(run)
            log(
                f"  [round {rep + 1}/{s.reps}] {variant}: {run.per_step * 1000:.2f} ms/step"
                + (f", {run.updates} SSE updates received" if watchers else "")
            )
    return Results(gets, starts, start_statuses, drain, engine, s.steps, notes)


def latency_table(results: Results) -> str:
    lines = [
        "| request | requests | ok | p50 | p95 | max | throughput | server CPU | bench CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lat in (*results.gets, results.starts):
        if not lat.samples:
            lines.append(f"| {lat.what} | 0 | 0 | – | – | – | – | – | – |")
            continue
        n = len(lat.samples) + sum(lat.errors.values())
        ms = [v * 1000 for v in lat.samples]
        lines.append(
            f"| {lat.what} | {n} | {len(ms)} | {quantile(ms, 0.5):.1f} ms "
            f"| {quantile(ms, 0.95):.1f} ms | {max(ms):.1f} ms | {len(ms) / lat.wall:.0f}/s "
            f"| {lat.server_cpu / len(ms) * 1000:.1f} ms/req "
            f"| {lat.bench_cpu / len(ms) * 1000:.1f} ms/req |"
        )
    return "\n".join(lines)


def engine_table(results: Results) -> str:
    lines = [
        "| variant | runs | per step, median | min–max | server CPU | bench CPU | SSE updates "
        "| SSE MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, runs in results.engine.items():
        if not runs:
            lines.append(f"| {variant} | 0 | failed | – | – | – | – | – |")
            continue
        ms = sorted(r.per_step * 1000 for r in runs)
        cpu = [r.server_cpu for r in runs if r.server_cpu is not None]
        server_cpu = f"{statistics.median(cpu):.2f} s" if cpu else "–"
        bench_cpu = statistics.median(r.bench_cpu for r in runs)
        watched = "watchers" in variant
        updates = f"{statistics.median(r.updates for r in runs):.0f}" if watched else "–"
        mib = f"{statistics.median(r.received for r in runs) / 2**20:.0f}" if watched else "–"
        lines.append(
            f"| {variant} | {len(runs)} | {statistics.median(ms):.2f} ms "
            f"| {ms[0]:.2f}–{ms[-1]:.2f} ms | {server_cpu} | {bench_cpu:.2f} s | {updates} "
            f"| {mib} |"
        )
    return "\n".join(lines)


def start_summary(results: Results) -> str:
    st = results.start_statuses
    total = len(results.starts.samples)
    return (
        f"starts: {total} runs created, {st['succeeded']} succeeded, "
        f"{sum(st.values()) - st['succeeded']} other ({dict(st)}); the last finished "
        f"{results.start_drain:.1f}s after the last answer (--workers {WORKERS})"
    )


def section(suite: Any) -> None:
    """``bench/run.py --only server``: rows, tables and every sample into the suite's report."""
    s = Settings.of(suite.args.quick)
    results = measure(suite.work / "server", s)
    for lat in (*results.gets, results.starts):
        if lat.samples:
            p50, p95 = quantile(lat.samples, 0.5) * 1000, quantile(lat.samples, 0.95) * 1000
            suite.row(
                f"{lat.what}, p50 / p95",
                f"{p50:.1f} / {p95:.1f} ms",
                "-", "-", "(information)", None,
            )  # fmt: skip
        if lat.errors:
            suite.notes.append(f"{lat.what}: not ok: {dict(lat.errors)}")
    suite.notes.append(start_summary(results))
    bare, watched = results.engine["no server"], results.engine["server, 100 watchers"]
    if bare and watched:
        ratio = results.engine_median("server, 100 watchers") / results.engine_median("no server")
        suite.row(
            f"engine per step, {s.watchers} SSE watchers",
            f"{results.engine_median('server, 100 watchers') * 1000:.2f} ms",
            f"no server {results.engine_median('no server') * 1000:.2f} ms",
            f"{ratio:.2f}x",
            f"<= {GOAL_WATCHED_RATIO:g}x",
            ratio <= GOAL_WATCHED_RATIO,
        )
    suite.notes.extend(results.notes)
    suite.tables.append(("Server: API latency", latency_table(results)))
    suite.tables.append(
        (f"Server: engine per step ({results.steps} steps of true)", engine_table(results))
    )
    suite.results["server"] = {
        "gets": {lat.what: lat.samples for lat in results.gets},
        "starts": results.starts.samples,
        "start_statuses": dict(results.start_statuses),
        "engine": {v: [r.__dict__ for r in runs] for v, runs in results.engine.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, 1 repetition")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    s = Settings.of(args.quick)
    work = Path(tempfile.mkdtemp(prefix="phasegate-server-bench-"))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # cleanup on SIGTERM too
    try:
        started = time.perf_counter()
        results = measure(work, s)
        log(f"took {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(latency_table(results))
    print()
    print(engine_table(results))
    bare, watched = results.engine["no server"], results.engine["server, 100 watchers"]
    if bare and watched:
        ratio = results.engine_median("server, 100 watchers") / results.engine_median("no server")
        print(f"\nwatched / no server: {ratio:.2f}x (goal <= {GOAL_WATCHED_RATIO:g}x)")
    print(f"- {start_summary(results)}")
    for note in results.notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
