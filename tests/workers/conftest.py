"""Workers on real PostgreSQL: `phasegate worker` processes started here, on the session's
cluster (tests/store/pg_cluster.py), each test with its own database; every process a test
starts is ended by its pid when the test ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import cli_forks
from tests.store.pg_cluster import database_url

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    def __init__(self, url: str, state: Path, logs: Path) -> None:
        self.url = url
        self.state = state
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PHASEGATE_STORE": self.url,
            "PHASEGATE_HOME": str(self.state),
            # What a worker host's environment may hold: one variable the runs are given
            # (--pass-env), one they must not see.
            "DEPLOY_REGION": "eu-1",
            "SECRET_THING": "do-not-leak",
        }

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = ["--state-dir", str(self.state), *args]
        return cli_forks.phasegate(argv, cwd=ROOT, env=self.env(), timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        with open(self.logs / f"worker-{n}.log", "ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "phasegate",
                    "--state-dir",
                    str(self.state),
                    "worker",
                    "--log-level",
                    "info",
                    *args,
                ],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture
def workers(postgres_server: str, tmp_path: Path) -> Iterator[Workers]:
    state = tmp_path / "state"
    logs = tmp_path / "logs"
    state.mkdir()
    logs.mkdir()
    pool = Workers(database_url(tmp_path / "db"), state, logs)
    try:
        yield pool
    finally:
        pool.stop_all()
