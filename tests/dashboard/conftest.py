"""The dashboard on a real uvicorn on 127.0.0.1 (a port the test picks), over a real state
directory that real `phasegate` processes write; a stand-in for the API's token check and
operator actions, which call the same engine operations the API does."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from canary_lab.ports import free_port
from fastapi import FastAPI

from phasegate.server.dashboard.routes import Dashboard, install
from phasegate.server.dashboard.sessions import Session
from phasegate.store.sqlite import SqliteStore
from tests import cli_forks

TOKENS = {"op-secret": ("alice", "operator"), "view-secret": ("victor", "viewer")}
ARTIFACTS = Path(os.environ.get("PHASEGATE_ARTIFACTS", "test-artifacts")) / "dashboard"


def phasegate_env(state: Path, actor: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.update({"PHASEGATE_HOME": str(state), "NO_COLOR": "1"})
    if actor:
        env["PHASEGATE_ACTOR"] = actor
    return env


def run_to_end(state: Path, work: Path, *args: str, code: int = 0) -> dict[str, Any]:
    """`phasegate run ARGS` in ``work`` on the dashboard's state directory, which must end
    with exit ``code``; then the run's `status --json` (both commands forked from the
    zygote, tests/cli_forks.py)."""
    env = phasegate_env(state)
    done = cli_forks.phasegate(["run", *args], cwd=work, env=env, timeout=300)
    assert done.returncode == code, done.stdout[-2000:] + done.stderr
    status = cli_forks.phasegate(["status", "last", "--json"], cwd=work, env=env, timeout=60)
    assert status.returncode == 0, status.stderr
    found: dict[str, Any] = json.loads(status.stdout)
    return found


CHILDREN: list[subprocess.Popen[bytes]] = []  # runs continued by the dashboard's actions


def reap_children(timeout: float = 30) -> None:
    while CHILDREN:
        child = CHILDREN.pop()
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def make_app(state: Path, interval: float = 0.2) -> tuple[FastAPI, Dashboard]:
    async def act(action: str, run_id: str, session: Session, form: dict[str, str]) -> str:
        from phasegate.engine import operator

        by = f"token:{session.name}"

        def work() -> str:
            store = SqliteStore(state)
            try:
                if action == "approve":
                    operator.approve(store, run_id, check=None, by=by)
            finally:
                store.close()
            verb = {"approve": "resume", "promote_full": "promote"}.get(action, action)
            args = [sys.executable, "-m", "phasegate", verb, run_id]
            if action == "promote_full":
                args.append("--full")
            if action == "abort":
                args += ["--reason", form.get("reason", "")]
            if action == "reject":
                args += ["--comment", form.get("comment", "")]
            child = subprocess.Popen(  # the run continues in its own process, as in the pool
                args,
                env=phasegate_env(state, by),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            CHILDREN.append(child)
            return f"{action} requested by {session.name}"

        return await asyncio.to_thread(work)

    dashboard = Dashboard(state, TOKENS.get, act, interval=interval)
    app = FastAPI()
    install(app, dashboard)
    return app, dashboard


@dataclass
class Served:
    url: str
    state: Path
    dashboard: Dashboard


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    state = tmp_path / "state"
    app, dashboard = make_app(state)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", state, dashboard)
    finally:
        reap_children()
        server.should_exit = True
        thread.join(timeout=20)
