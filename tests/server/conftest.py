"""Fixtures for the server: the app in-process (real worker processes, real SQLite), and
``phasegate serve`` as a real subprocess on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    # This starlette prefers an ``httpx2`` package for its test client; httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from canary_lab.ports import free_port
from canary_lab.process import descendants, reap, subreaper

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from phasegate.server.tokens import TokenStore
from phasegate.store.backends import open_ledger
from phasegate.store.server_db import ServerDb
from tests import cli_forks

HELLO = """\
version: 1
name: hello
phases:
  - id: p
    steps:
      - {name: say, run: 'echo hello'}
"""


def plan_text(name: str = "hello", command: str = "echo hello") -> str:
    return HELLO.replace("name: hello", f"name: {name}").replace("echo hello", command)


def wait_for(predicate: Callable[[], Any], what: str, attempts: int = 600) -> Any:
    """Poll (bounded: attempts x 0.1 s) until predicate returns something truthy."""
    for _ in range(attempts):
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str = "viewer", **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(who), **kw)

    def post(self, path: str, who: str = "alice", **kw: Any) -> httpx.Response:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def wait_status(self, run_id: str, *statuses: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            doc: dict[str, Any] = self.get(f"/api/v1/runs/{run_id}").json()
            return doc if doc["run"]["status"] in statuses else None

        result: dict[str, Any] = wait_for(done, f"run {run_id} to be {statuses}")
        return result


def make_tokens(state_dir: Path, store_url: str | None = None) -> dict[str, str]:
    ledger = open_ledger(state_dir, url=store_url) if store_url else ServerDb(state_dir)
    store = TokenStore(ledger)
    try:
        return {
            "viewer": store.create("viewer", "viewer"),
            "alice": store.create("alice", "operator"),
            "bob": store.create("bob", "operator"),
            "admin": store.create("admin", "admin"),
        }
    finally:
        close = getattr(ledger, "close", None)
        if close is not None:
            close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test module with ``STORES = ("sqlite", "postgres")`` runs its ``api`` tests on both
    stores (issue 12 §6: the server's tests on SQLite and on PostgreSQL)."""
    stores = getattr(metafunc.module, "STORES", None)
    if stores and "api" in metafunc.fixturenames:
        metafunc.parametrize("api", list(stores), indirect=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """A test that takes ``store_url`` runs twice: on the SQLite default (None) and on a fresh
    PostgreSQL database of the session's cluster (its URL)."""
    if request.param == "sqlite":
        return None
    request.getfixturevalue("postgres_server")
    from tests.store.pg_cluster import database_url

    return database_url(tmp_path / "database")


@pytest.fixture
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    state = tmp_path / "state"
    plans = tmp_path / "plans"
    plans.mkdir()
    store_url = None
    if getattr(request, "param", "sqlite") == "postgres":
        request.getfixturevalue("postgres_server")
        from tests.store.pg_cluster import database_url

        store_url = database_url(tmp_path / "db")
    tokens = make_tokens(state, store_url)
    app = create_app(ServerConfig(state_dir=state, store_url=store_url, plan_root=plans, workers=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens)
        assert app.state.pool.join(120), "workers still busy"


@dataclass
class Served:
    url: str
    state_dir: Path
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    # More `phasegate serve` options, and variables for the server's environment only.
    serve_args: list[str] = field(default_factory=list)
    server_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        return {**env, "PHASEGATE_HOME": str(self.state_dir), "NO_COLOR": "1"}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli_forks.phasegate(list(args), cwd=self.cwd, env=self.env())

    def start(self) -> None:
        port = int(self.url.rsplit(":", 1)[1])
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "phasegate",
                "serve",
                "--port",
                str(port),
                "--workers",
                "4",
                "--log-level",
                "warning",
                *self.serve_args,
            ],
            cwd=self.cwd,
            env={**self.env(), **self.server_env},
            stdin=subprocess.DEVNULL,
        )

        def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "server died"
            try:
                return httpx.get(self.url + "/healthz", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, "the server to answer /healthz")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None


def session_processes() -> set[int]:
    """This test process's own helpers, which a test's clean-up of its servers must leave
    alone: multiprocessing's fork server and resource tracker, the CLI fixture's zygote
    (tests/cli_forks.py), the session's PostgreSQL (whose postmaster is this process's child
    when it started while this process was a subreaper), and their children."""
    from multiprocessing import forkserver, resource_tracker

    found = {
        getattr(forkserver._forkserver, "_forkserver_pid", None),
        getattr(resource_tracker._resource_tracker, "_pid", None),
        cli_forks.zygote_pid(),
    }
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
                found.add(pid)
    return {p for pid in found if pid is not None for p in (pid, *descendants(pid))}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    subreaper(True)
    work = tmp_path / "work"
    work.mkdir()
    server = Served(f"http://127.0.0.1:{free_port()}", tmp_path / "state", work)
    try:
        yield server
    finally:
        server.stop()
        # Workers outlive the server on purpose: wait for them (bounded), then make sure.
        # This process's own sandbox fork server (in-process apps validate plans through
        # it) is not the server's and stays.
        ours = session_processes()
        for pid in [p for p in descendants(os.getpid()) if p not in ours]:
            with contextlib.suppress(ProcessLookupError):
                for _ in range(300):
                    os.kill(pid, 0)
                    reap()
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
        reap()
        subreaper(False)
