"""End-to-end canary runs: phasegate (a real process) drives real nginx weights, reads real
Prometheus metrics scraped every second from two real backends under a bounded load.

One lab serves the module (Prometheus needs ~5 s to discover targets); each test starts from
all traffic on stable and healthy backends.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI
from tests.lab.conftest import Lab, eventually, running_lab, set_nginx_weights

ERROR_RATIO = (
    'sum(rate(app_requests_total{version="canary",code=~"5.."}[5s]))'
    ' / sum(rate(app_requests_total{version="canary"}[5s]))'
)
SHARE_SCRIPT = Path(__file__).with_name("share.py")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory, rate=60) as running:
        yield running


@pytest.fixture
def fresh_lab(lab: Lab) -> Iterator[Lab]:
    yield from fresh(lab)


def fresh(lab: Lab) -> Iterator[Lab]:
    """All traffic on stable, no faults, drained rate windows: before and after the test."""
    reset(lab)
    yield lab
    reset(lab)


def reset(lab: Lab) -> None:
    lab.stable.set_fault()
    lab.canary.set_fault()
    if not lab.prometheus.running:
        lab.prometheus.start()
        lab.prometheus.wait_for_targets()
    set_nginx_weights(lab.router_server, {"stable": 100, "canary": 0})
    # The rate window still holds the last test's canary traffic (and its errors): start
    # when it has drained, so each test sees only its own canary requests.
    eventually(
        lambda: lab.prometheus.query(ERROR_RATIO),
        lambda value: value is None,
        timeout=30,
        what="the canary's rate window to drain",
    )


def error_analysis(**overrides: Any) -> dict[str, Any]:
    """The canary's 5xx ratio from Prometheus: fails over 5 %."""
    metric = {
        "name": "error-rate",
        "metric": ERROR_RATIO,
        "provider": {"prometheus": {"url": "${PROMETHEUS_URL}"}},
        "failure": "value > 0.05",
        "success": "value <= 0.05",
    }
    return {"interval": "1s", "metrics": [metric], **overrides}


def share_step(expected: int) -> dict[str, Any]:
    """Counts, at the backends, who served a burst of requests sent through nginx."""
    return {
        "name": f"share at {expected}",
        "run": f'"$PYTHON" {SHARE_SCRIPT} {expected} >> "$SHARES"',
    }


def write_plan(path: Path, lab: Lab, body: dict[str, Any]) -> Path:
    names = ("PROMETHEUS_URL", "APP_URL", "STABLE_URL", "CANARY_URL", "PYTHON", "SHARES")
    plan = {
        "version": 1,
        "name": path.stem,
        "vars": {name: {"env": name, "default": ""} for name in names},
        "traffic": {
            "backends": ["stable", "canary"],
            "router": {"nginx": lab.router_server.router_options()},
        },
        **body,
    }
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def lab_env(lab: Lab, cli: CLI) -> dict[str, str]:
    return {**lab.env(), "PYTHON": sys.executable, "SHARES": str(cli.cwd / "shares.jsonl")}


def shares(cli: CLI) -> list[dict[str, Any]]:
    path = cli.cwd / "shares.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def journal(cli: CLI, run: str = "last") -> list[tuple[str, dict[str, Any], float]]:
    """The run's events, read from the store as `phasegate check` reads them."""
    run_id = cli.status(run)["run"]["id"]
    store = SqliteStore(cli.state_dir)
    try:
        return [(etype, data, ts) for _, ts, etype, data in store.events(run_id)]
    finally:
        store.close()
