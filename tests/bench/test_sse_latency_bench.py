"""bench/sse_latency.py measures both stores in one run and reports both (timings are
reported, never asserted): every write reached the SSE client, in order, on each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.store.pg_cluster import database_url

ROOT = Path(__file__).resolve().parents[2]


def test_sse_latency_bench_reports_sqlite_polling_and_postgres_notify(
    postgres_server: str, tmp_path: Path
) -> None:
    url = database_url(tmp_path / "database")
    done = subprocess.run(
        [sys.executable, "bench/sse_latency.py", "--writes", "6", "--postgres", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "journal write -> SSE client latency (ms)"
    assert lines[2].startswith("SQLite (polling)") and lines[3].startswith("PostgreSQL (NOTIFY)")
    assert lines[4].startswith("SQLite / PostgreSQL (p50): ")
    results = json.loads(lines[5])
    assert {name: r["writes"] for name, r in results.items()} == {
        "SQLite (polling)": 6,
        "PostgreSQL (NOTIFY)": 6,
    }
