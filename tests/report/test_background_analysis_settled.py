"""A finished run never shows an analysis still running.

A phase's background analysis is asked to stop when the run fails; if its measurement is still
in flight when the rollback ends (a slow metric, or a loaded machine: seen under load in
test_canary_report), the run used to end with the analysis item ``running`` forever, in
status, report and dashboard. Now the run's last write records it as skipped, with why."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from .helpers import Project

PLAN = """\
version: 1
name: slow-background
traffic:
  backends: [stable, canary]
  router: {command: ./router.sh}
phases:
  - id: canary
    analysis:
      interval: 20ms
      metrics:
        - {name: slow, metric: "sleep 3; echo 0.1", provider: {command: {}}, failure: value > 1}
    steps:
      - set_weight: 10
      - name: errors
        analysis:
          interval: 10ms
          count: 2
          metrics:
            - {name: errors, metric: echo 0.5, provider: {command: {}}, failure: value > 0.1}
"""


def test_a_background_analysis_still_measuring_when_the_rollback_ends_is_skipped(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path)
    router = tmp_path / "router.sh"
    router.write_text('#!/bin/sh\necho "$WEIGHT" >> weights.log\n')
    router.chmod(router.stat().st_mode | stat.S_IXUSR)
    assert project.run(PLAN) == 1
    shown = project.cli("status", "last", "--json")
    doc = json.loads(shown.stdout)
    assert doc["run"]["status"] == "rolled_back"
    analyses = {a["key"]: (a["status"], a["message"]) for a in doc["analyses"]}
    assert analyses["canary/errors"][0] == "failed"
    assert analyses["canary/analysis"] == ("skipped", "analysis stopped: the run is failing")
    # No item of a finished run is left running, and the journal's invariants hold.
    running = [i["key"] for p in doc["phases"] for i in p["items"] if i["status"] == "running"]
    assert running == []
    assert project.cli("check").returncode == 0
