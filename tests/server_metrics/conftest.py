"""A real journal for the metrics tests: small plans run by the real CLI in subprocesses.

Four runs, made once per session:
- ``gated`` with ``FAIL=1``: its command gate fails, the step is undone (rolled_back);
- ``gated`` with ``FAIL=0``: succeeds (so the plan has a time to fix);
- ``canary``: a ``command`` router script moves 20 % of traffic, a metric analysis through the
  ``command`` provider fails, traffic goes back to stable (detection latency recorded);
- ``held``: 30 % to the canary, then paused until approved (exit 4; its weight is current).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from phasegate.server.metrics import JournalCollector, metrics_registry
from tests.conftest import CLI, write_plan

GATED = """
version: 1
name: gated
vars: {FAIL: "0"}
phases:
  - id: deploy
    steps:
      - name: deploy
        run: echo deploying
        undo: echo undoing
    gates:
      - name: smoke
        command: test "$FAIL" = 0
"""
ROUTER = '#!/bin/sh\necho "$WEIGHT" >> "$(dirname "$0")/weights.log"\n'
CANARY = """
version: 1
name: canary
traffic:
  backends: [stable, canary]
  router: {command: ./router.sh}
analyses:
  errors:
    interval: 0.2s
    count: 2
    metrics:
      - name: error-rate
        metric: echo 0.5
        provider: {command: {}}
        failure: value > 0.05
        success: value <= 0.05
phases:
  - id: canary
    steps:
      - set_weight: 20
      - analysis: errors
      - set_weight: 50
"""
HELD = """
version: 1
name: held
traffic:
  backends: [stable, canary]
  router: {command: ./router.sh}
phases:
  - id: canary
    steps:
      - set_weight: 30
      - pause: approve
      - set_weight: 100
"""


@dataclass
class Journal:
    state_dir: Path

    def registry(self) -> tuple[CollectorRegistry, JournalCollector]:
        return metrics_registry(self.state_dir)


@pytest.fixture(scope="session")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("metrics")
    cli = CLI(state_dir=root / "state", cwd=root / "work")
    cli.cwd.mkdir()
    router = cli.cwd / "router.sh"
    router.write_text(ROUTER)
    router.chmod(0o755)
    gated = write_plan(cli.cwd, GATED, "gated.yaml")
    runs = [
        (("run", str(gated), "--var", "FAIL=1"), 1),
        (("run", str(gated), "--var", "FAIL=0"), 0),
        (("run", str(write_plan(cli.cwd, CANARY, "canary.yaml"))), 1),
        (("run", str(write_plan(cli.cwd, HELD, "held.yaml"))), 4),
    ]
    for args, expected in runs:
        result = cli(*args)
        assert result.returncode == expected, result.stdout + result.stderr
    yield Journal(cli.state_dir)
