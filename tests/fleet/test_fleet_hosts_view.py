"""The per-host view (report/fleet_hosts.py) from journal events, and on the dashboard's run
page for the lowest role (viewer), row by row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from phasegate.report.fleet_hosts import hosts_view
from tests import cli_forks
from tests.dashboard import conftest as dashboard
from tests.dashboard.conftest import Served, phasegate_env, run_to_end
from tests.fleet.test_fleet_host_gates import HOST_GATES
from tests.fleet.test_fleet_zones import zoned

served = dashboard.served  # the dashboard on a real uvicorn (tests/dashboard/conftest.py)


def _events(*entries: tuple[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(seq, float(seq), etype, data) for seq, (etype, data) in enumerate(entries)]


def _end(key: str, status: str, **more: Any) -> tuple[str, dict[str, Any]]:
    return ("item.finished", {"key": key, "status": status, **more})


def test_rows_from_the_journal_every_outcome() -> None:
    hosts = [{"name": n, "labels": {}} for n in ("a", "b", "c", "d", "e", "f")]
    events = _events(
        ("item.started", {"key": "d/fleet", "kind": "fleet", "phase": "d", "hosts": hosts}),
        ("fleet.batch", {"phase": "d", "batch": 1, "of": 2, "hosts": ["a", "b", "c"]}),
        ("item.started", {"key": "d/install@a", "attempt": 1}),
        _end("d/install@a", "retrying", attempt=1),
        _end("d/install@a", "succeeded", attempt=2),
        _end("d/check@a", "succeeded"),
        _end("d/gate:g@a", "passed"),
        _end("d/install@b", "failed", unreachable=True),
        ("item.started", {"key": "d/install@c", "attempt": 1}),
        ("item.unknown", {"key": "d/install@c", "reason": "no record"}),
        ("fleet.batch", {"phase": "d", "batch": 2, "of": 2, "hosts": ["d", "e"]}),
        _end("d/install@d", "succeeded"),
        _end("d/check@d", "failed"),
        ("item.started", {"key": "d/install@e", "attempt": 1}),
        _end("undo:d/install@a", "succeeded"),  # an undo is not a step's status
        _end("d/gate:g@batch1", "passed"),  # a batch gate is not a host's
    )
    [view] = hosts_view(events)
    assert view["steps"] == ["install", "check"] and view["gates"] == ["g"]
    rows = [(r["host"], r["batch"], r["steps"], r["gates"], r["outcome"]) for r in view["hosts"]]
    assert rows == [
        ("a", 1, {"install": "succeeded", "check": "succeeded"}, {"g": "passed"}, "succeeded"),
        ("b", 1, {"install": "unreachable", "check": "-"}, {"g": "-"}, "unreachable"),
        ("c", 1, {"install": "unknown", "check": "-"}, {"g": "-"}, "unknown"),
        ("d", 2, {"install": "succeeded", "check": "failed"}, {"g": "-"}, "failed"),
        ("e", 2, {"install": "running", "check": "-"}, {"g": "-"}, "running"),
        ("f", None, {"install": "-", "check": "-"}, {"g": "-"}, "pending"),
    ]


def test_no_fleet_no_rows() -> None:
    assert hosts_view(_events(_end("p/s", "succeeded"))) == []


def test_the_run_page_shows_each_host_to_a_viewer(served: Served, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    zoned(work, "a" * 6, size=[3], max_fail_percentage=50, host_gates=HOST_GATES)
    run_id = str(run_to_end(served.state, work, "plan.yaml", "--no-output")["run"]["id"])
    with httpx.Client(base_url=served.url, timeout=30) as client:
        signed = client.post("/ui/login", data={"token": "view-secret", "next": "/ui/runs"})
        assert signed.status_code == 303, signed.text
        page = client.get(f"/ui/runs/{run_id}")
    assert page.status_code == 200
    section = re.search(r'<section class="fleet-hosts">.*?</section>', page.text, re.S)
    assert section is not None, "no hosts section on the run page"
    text = section.group(0)
    heads = re.findall(r"<th>([^<]*)</th>", text)
    assert heads == ["host", "batch", "install", "gate version", "gate not-web03", "outcome"]
    rows = [
        re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]*)", row)
        for row in re.findall(r'<tr data-host="[^"]+">(.*?)</tr>', text, re.S)
    ]
    assert rows == [
        [f"web0{i}", str(i // 3 + 1), "succeeded", "passed"]
        + (["failed", "failed"] if i == 3 else ["passed", "succeeded"])
        for i in range(6)
    ]
    # The written report's Hosts table says the same, row by row (md; html is the page's).
    env = phasegate_env(served.state)
    report = cli_forks.phasegate(["report", run_id, "--format", "md"], cwd=work, env=env)
    assert report.returncode == 0, report.stderr
    table = report.stdout.split("**Hosts of `")[1].split("\n\n")[1].splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    assert cells[0] == ["Host", "Batch", "install", "gate version", "gate not-web03", "Outcome"]
    assert cells[2:] == [
        [f"web0{i}", str(i // 3 + 1), "succeeded", "passed"]
        + (["failed", "failed"] if i == 3 else ["passed", "succeeded"])
        for i in range(6)
    ]
