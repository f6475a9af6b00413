"""Live-view latency (issue 12 §3, Performance): from a journal write to an SSE client,
SQLite polling against PostgreSQL NOTIFY, side by side in one run.

    uv run python bench/sse_latency.py            # 200 writes per store
    uv run python bench/sse_latency.py --quick    # 30 writes per store
    uv run python bench/sse_latency.py --postgres URL   # an existing server, not a new one

For each store, a real ``phasegate serve`` subprocess on 127.0.0.1 (SQLite: its state
directory; PostgreSQL: ``PHASEGATE_STORE``, a cluster started here with Debian's ``pg_ctl``
as tests/store/pg_cluster.py does, unless ``--postgres`` names one), one SSE client on
``GET /api/v1/runs/{id}/events/stream`` (httpx, a thread of this process), and a writer in
this process appending one event at a time to the run's journal through the store contract,
as an engine does. Latency = the client's arrival time of the event - the time just before
the writer's ``append`` (one clock, ``perf_counter``, one process). Between writes the writer
waits for the arrival, then a random 0-300 ms, so writes do not fall in step with a poll.

Reports p50, p95 and max per store and the ratio SQLite / PostgreSQL (p50). Expected: SQLite
~ half its poll interval (store/changes.py ``POLL_INTERVAL``) plus a read; PostgreSQL one
NOTIFY round trip and a read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for extra in (BENCH, ROOT, ROOT / "examples"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from canary_lab.ports import free_port  # noqa: E402
from measure import BenchError, child_env, log  # noqa: E402

from phasegate.store.backends import open_journal  # noqa: E402
from phasegate.store.contract import JournalStore  # noqa: E402
from phasegate.store.process import Owner  # noqa: E402

RUN_ID = "bench-sse"
HEALTH_ATTEMPTS = 300  # x 0.1 s
ARRIVAL_TIMEOUT = 30.0


class Serve:
    def __init__(self, state: Path, store_url: str | None) -> None:
        self.state, self.store_url = state, store_url
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        state.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in child_env().items() if not k.startswith("PHASEGATE_")}
        env.update({"PHASEGATE_HOME": str(self.state), "NO_COLOR": "1"})
        if self.store_url:
            env["PHASEGATE_STORE"] = self.store_url
        return env

    def token(self) -> str:
        argv = [sys.executable, "-m", "phasegate", "token", "create", "--name", "watcher"]
        done = subprocess.run(
            [*argv, "--role", "viewer"], env=self.env(), cwd=self.state, capture_output=True,
            text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchError(f"phasegate token create failed: {done.stderr[-500:]}")
        return done.stdout.strip()

    def start(self) -> None:
        argv = [sys.executable, "-m", "phasegate", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--workers", "1", "--log-level", "warning"]
        with open(self.state / "server.log", "ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=self.state, env=self.env(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(HEALTH_ATTEMPTS):
            if self.proc.poll() is not None:
                tail = (self.state / "server.log").read_text(errors="replace")[-1500:]
                raise BenchError(f"phasegate serve exited {self.proc.returncode}\n{tail}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            time.sleep(0.1)
        raise BenchError("phasegate serve did not answer /healthz")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _create(store: JournalStore) -> None:
    store.create_run(
        run_id=RUN_ID, plan_name="bench", plan_path="/bench.yaml", plan_sha256="0",
        plan_text="name: bench\n", lock_name="bench", idempotency_key=None, options={},
        phases=["p"], needs=None, owner=Owner.me(), ts=time.time(),
    )  # fmt: skip


def _script(writes: int) -> Iterator[tuple[str, dict[str, object]]]:
    """Legal events, one write each: the run and its phase start, then steps that start and
    finish."""
    yield "run.started", {}
    yield "phase.started", {"phase": "p"}
    for n in range(writes):
        key = f"p/s{n // 2}"
        if n % 2 == 0:
            yield "item.started", {"key": key, "kind": "step", "phase": "p"}
        else:
            yield "item.finished", {"key": key, "kind": "step", "status": "succeeded"}


def _listen(url: str, secret: str, arrivals: queue.Queue[tuple[int, float]]) -> None:
    path = f"{url}/api/v1/runs/{RUN_ID}/events/stream"
    headers = {"Authorization": f"Bearer {secret}"}
    # The server stops at the end of a measurement, in the middle of the stream: not an error.
    with (
        contextlib.suppress(httpx.HTTPError),
        httpx.stream("GET", path, headers=headers, timeout=120) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("id:"):
                arrivals.put((int(line[3:].strip()), time.perf_counter()))


def measure(name: str, state: Path, store_url: str | None, writes: int) -> list[float]:
    server = Serve(state, store_url)
    writer = open_journal(state, url=store_url)
    try:
        secret = server.token()
        _create(writer)
        server.start()
        arrivals: queue.Queue[tuple[int, float]] = queue.Queue()
        threading.Thread(target=_listen, args=(server.url, secret, arrivals), daemon=True).start()
        seq, _ = arrivals.get(timeout=ARRIVAL_TIMEOUT)  # run.created: the stream is open
        if seq != 1:
            raise BenchError(f"{name}: the stream began at #{seq}")
        state_now = writer.load_state(RUN_ID)
        rng = random.Random(7)
        latencies = []
        for n, (etype, data) in enumerate(_script(writes)):
            time.sleep(rng.uniform(0, 0.3))
            before = time.perf_counter()
            writer.append(state_now, [(etype, data, time.time())], durable=False)
            got, arrived = arrivals.get(timeout=ARRIVAL_TIMEOUT)
            if got != state_now.seq:
                raise BenchError(f"{name}: sent #{state_now.seq}, the client got #{got}")
            if n >= 2:  # run.started and phase.started are warm-up
                latencies.append(arrived - before)
        return latencies
    finally:
        writer.close()
        server.stop()


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(writes: int, postgres: str | None = None) -> dict[str, dict[str, float]]:
    cluster = None
    if postgres is None:
        from tests.store.pg_cluster import start_cluster

        log("starting a PostgreSQL cluster (pg_ctl)…")
        cluster = start_cluster()
        postgres = cluster.url()
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="phasegate-sse-") as raw:
            root = Path(raw)
            for name, url in (("SQLite (polling)", None), ("PostgreSQL (NOTIFY)", postgres)):
                log(f"{name}: {writes} writes…")
                found = measure(name, root / name.split()[0].lower(), url, writes)
                results[name] = {
                    "p50_ms": round(statistics.median(found) * 1000, 2),
                    "p95_ms": round(_ms(found, 0.95), 2),
                    "max_ms": round(max(found) * 1000, 2),
                    "writes": len(found),
                }
    finally:
        if cluster is not None:
            cluster.stop()
    print("journal write -> SSE client latency (ms)")
    print(f"{'store':<22} {'writes':>6} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, r in results.items():
        print(
            f"{name:<22} {int(r['writes']):>6} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
            f" {r['max_ms']:>8.1f}"
        )
    sqlite, pg = results["SQLite (polling)"], results["PostgreSQL (NOTIFY)"]
    print(f"SQLite / PostgreSQL (p50): {sqlite['p50_ms'] / max(pg['p50_ms'], 1e-3):.1f}x")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 writes per store")
    parser.add_argument("--writes", type=int, default=None)
    parser.add_argument("--postgres", default=None, help="an existing server's URL")
    args = parser.parse_args()
    try:
        main(args.writes or (30 if args.quick else 200), args.postgres)
    except BenchError as exc:
        sys.exit(f"bench failed: {exc}")
