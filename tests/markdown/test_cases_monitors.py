"""Never-ending and interactive commands of a document (issue 11 §2, case 06, seeds 001/003).

Observation commands (``watch``, ``tail -f``, ``kubectl … -w``, ``logs -f``, ``port-forward``,
monitoring loops) become monitors of their phase: they run beside it and end with it.
Interactive ones (editors, ``-it`` shells, a bare ``ssh host``, ``read`` prompts) are manual
steps the operator does. Neither is ever a plain step or gate, which would hang until its
timeout and then roll back a healthy deployment. Case 06 is imported and run for real
(tests/markdown/cases_harness.py), with stub programs on PATH so that what ran is visible.
"""

from __future__ import annotations

import http.server
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate.markdown import import_markdown_file
from phasegate.markdown.loops import watch_loop
from phasegate.markdown.monitors import INTERACTIVE, OBSERVE, classify
from phasegate.markdown.shellparse import analyse
from phasegate.store.process import group_members
from tests import shared
from tests.conftest import CLI
from tests.markdown.cases_harness import Imported, Ran, _ran, case_path, import_case

SEEDS = shared.SHARED / "seeds"


def _stub(cli: CLI, name: str, body: str) -> dict[str, str]:
    bindir = cli.cwd / "bin"
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def _run(case: Imported, env: dict[str, str]) -> tuple[Ran, float]:
    started = time.monotonic()
    result = case.cli("run", str(case.plan_path), "--no-output", env=env, input="")
    return _ran(case.cli, result), time.monotonic() - started


def _forever_in_steps_or_gates(plan: dict[str, Any]) -> list[str]:
    """Every never-ending command a step or gate would run (comments are not run)."""
    found = []
    for phase in plan.get("phases", []):
        texts = [s.get("run") for s in phase.get("steps", [])]
        texts += [g.get("command") for g in phase.get("gates", [])]
        for text in texts:
            if isinstance(text, str):
                found += [u.text for u in analyse(text) if u.kind == "command" and u.forever]
    return found


@pytest.fixture
def health() -> Iterator[int]:
    """A healthy endpoint on a port the test picks."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _case_06(cli: CLI, port: int | None = None) -> Imported:
    text = case_path("06").read_text(encoding="utf-8")
    if port is not None:
        text = text.replace("127.0.0.1:9/", f"127.0.0.1:{port}/")
    case = import_case(cli, "06-never-ending-commands.md", text=text)
    assert case.returncode == 0, case.stderr
    return case


def _stubs(cli: CLI) -> dict[str, str]:
    # Each prints, then never ends: as a step it would hang until the 5-minute timeout.
    env = _stub(cli, "kubectl", 'echo "web-1 Running"; exec sleep 600')
    _stub(cli, "tail", 'echo "app log line"; exec sleep 600')
    return env


def test_06_observation_commands_are_monitors_and_the_run_finishes_promptly(
    cli: CLI, health: int
) -> None:
    case = _case_06(cli, health)
    [phase] = case.plan["phases"]
    assert [(m["run"], m.get("every")) for m in phase["monitors"]] == [
        ("kubectl get pods -w", None),
        ("tail -f /var/log/app.log", None),
        ("ls /var/log", "5s"),  # `watch -n 5 ls /var/log`: watch needs a terminal
    ]
    assert _forever_in_steps_or_gates(case.plan) == []
    assert [m["line"] for m in case.report["monitors"]] == [8, 12, 17]
    ran, took = _run(case, _stubs(cli))
    assert ran.returncode == 0, ran.stderr
    assert took < 60, took  # not the 5-minute timeout of a hung step
    assert ran.markers == {"deployed"}
    # nothing paused for a person, every forward item succeeded
    assert [(i["kind"], i["status"]) for i in ran.items()] == [
        ("step", "succeeded"),
        ("gate", "passed"),
    ]
    monitors = {m["name"]: m for m in ran.status["monitors"]}
    assert {m["status"] for m in monitors.values()} == {"stopped"}
    for monitor in monitors.values():
        assert monitor["on"] == "phase succeeded"
        assert not group_members(monitor["process"]["pgid"])
    logs = cli("logs", "last", "monitor").stdout
    assert "web-1 Running" in logs and "app log line" in logs


def test_06_as_written_the_health_gate_decides_not_a_hung_watch(cli: CLI) -> None:
    # Port 9 answers nothing: the finite curl gate fails at once and the run rolls back; no
    # never-ending command was waited for.
    case = _case_06(cli)
    ran, took = _run(case, _stubs(cli))
    assert ran.returncode == 1, ran.stderr
    assert took < 60, took
    assert "timed out" not in ran.stdout + ran.stderr
    failure = ran.status["failure"]
    assert failure["item"] == "phase-1-deploy/gate:gate-1"
    assert "Failed to connect to 127.0.0.1 port 9" in failure["message"]
    assert {m["status"] for m in ran.status["monitors"]} == {"stopped"}


INTERACTIVE_DOC = """# Release

## Phase 1: Deploy

```bash
touch "$RUN_DIR/deployed"
vim /etc/app/config.yaml
kubectl exec -it web-1 -- bash
ssh bastion
read -p "Continue? " answer
```

```bash
touch "$RUN_DIR/after"
```
"""


def test_interactive_commands_are_manual_steps_never_run(cli: CLI) -> None:
    case = import_case(cli, "interactive.md", text=INTERACTIVE_DOC)
    assert case.returncode == 0, case.stderr
    assert _forever_in_steps_or_gates(case.plan) == []
    assert "monitors" not in case.plan["phases"][0]
    env = _stub(cli, "vim", 'touch "$RUN_DIR/VIM-RAN"')
    _stub(cli, "ssh", 'touch "$RUN_DIR/SSH-RAN"')
    _stub(cli, "kubectl", 'touch "$RUN_DIR/KUBECTL-RAN"')
    result = cli("run", str(case.plan_path), "--no-output", env=env, input="")
    ran = _ran(cli, result)
    # the run waits for the operator at the first interactive command, running none of them
    assert ran.returncode == 4, ran.stderr
    assert ran.markers == {"deployed"}
    [waiting] = ran.awaiting()
    assert "vim /etc/app/config.yaml" in waiting["name"]
    manual = [s["name"] for s in case.plan["phases"][0]["steps"] if "pause" in s]
    for command in ("vim", "kubectl exec -it", "ssh bastion", "read -p"):
        assert any(command in name for name in manual), (command, manual)


@pytest.mark.parametrize(
    ("command", "kind", "run", "every"),
    [
        ("kubectl get pods -w", OBSERVE, "kubectl get pods -w", None),
        (
            "kubectl get pods --watch | grep web",
            OBSERVE,
            "kubectl get pods --watch | grep web",
            None,
        ),
        ("tail -F /var/log/app.log", OBSERVE, "tail -F /var/log/app.log", None),
        ("journalctl -fu nginx", OBSERVE, "journalctl -fu nginx", None),
        ("sudo docker logs -f web", OBSERVE, "sudo docker logs -f web", None),
        (
            "kubectl port-forward svc/web 8080:80",
            OBSERVE,
            "kubectl port-forward svc/web 8080:80",
            None,
        ),
        (
            'watch -n 10 "curl -s localhost/status | jq"',
            OBSERVE,
            "curl -s localhost/status | jq",
            10.0,
        ),
        ("watch kubectl get pods", OBSERVE, "kubectl get pods", 2.0),
        ("vim config.yaml", INTERACTIVE, None, None),
        ("htop", INTERACTIVE, None, None),
        ("less /var/log/syslog", INTERACTIVE, None, None),
        ("kubectl exec -it web-1 -- sh", INTERACTIVE, None, None),
        ("docker run -it ubuntu bash", INTERACTIVE, None, None),
        ("ssh admin@db1", INTERACTIVE, None, None),
        ('read -p "Proceed? " ok', INTERACTIVE, None, None),
        # an action chained before the watch: never hidden inside a monitor
        ("kubectl apply -f web.yaml && kubectl get pods -w", INTERACTIVE, None, None),
    ],
)
def test_classification(command: str, kind: str, run: str | None, every: float | None) -> None:
    watcher = classify(command)
    assert watcher.kind == kind
    if run is not None:
        assert (watcher.run, watcher.every) == (run, every)


@pytest.mark.parametrize(
    ("loop", "watches"),
    [
        ("while true; do date; sleep 5; done", True),
        ("while :; do kubectl top pods; sleep 10; done", True),
        ("until false; do uptime; sleep 1; done", True),
        ("while [ $(($(date +%s) - start)) -lt 86400 ]; do check >> log; sleep 300; done", True),
        # waits for something, then ends: a real step
        ("until curl -fs http://127.0.0.1/healthz; do sleep 5; done", False),
        ("while true; do if ready; then break; fi; sleep 2; done", False),
        ("while read line; do echo $line; done < hosts.txt", False),
    ],
)
def test_monitoring_loops(loop: str, watches: bool) -> None:
    assert (watch_loop(loop) is not None) is watches


def _seed(prefix: str) -> Path:
    found = sorted(SEEDS.glob(f"{prefix}_*"))
    if not found:
        pytest.skip(f"no seed {prefix} at {SEEDS}")
    return found[0]


def test_seed_001_monitoring_loops_are_monitors_not_blocking_steps() -> None:
    plan = import_markdown_file(_seed("001")).data
    steps = [s.get("run", "") for p in plan["phases"] for s in p.get("steps", [])]
    assert not [s for s in steps if "while true" in s or "monitoring_duration" in s]
    assert _forever_in_steps_or_gates(plan) == []
    [phase] = [p for p in plan["phases"] if p.get("monitors")]
    # The 24-hour loop after the rollout is the plan's post-rollout `monitor:` (its phase's
    # end would cut a phase monitor short; tests/markdown/test_timekeeping.py).
    assert [m["description"] for m in phase["monitors"]] == [
        "Continuous monitoring script (run in background)",
    ]
    # each monitor is the whole pasted script: its loop sees the variables set above it
    [first] = (m["run"] for m in phase["monitors"])
    assert 'FRAMEWORK_TARGET="' in first and "while true; do" in first
    after = plan.get("monitor") or plan["metadata"]["monitor"]
    assert after["schedule"][-1] == {"every": "1h", "for": "23h"}  # 1 h + 23 h


def test_seed_003_watch_commands_are_monitors() -> None:
    plan = import_markdown_file(_seed("003")).data
    monitors = [m for p in plan["phases"] for m in p.get("monitors", [])]
    assert [(m["run"].split()[-3], m["every"]) for m in monitors] == [
        ("http://localhost:6100/api/portfolio/status", "5s"),
        ("http://localhost:6100/api/portfolio/status", "10s"),
        ("http://localhost:6100/api/projects/301/budget-runway", "30s"),
        ("http://localhost:6100/api/projects/302/budget-runway", "30s"),
        ("http://localhost:6100/api/projects/301/risk-heatmap", "60s"),
    ]
    assert _forever_in_steps_or_gates(plan) == []
