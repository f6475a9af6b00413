"""A phase monitor's log over the real HTTP API (issue 11 §2): `GET /api/v1/runs/{id}/logs`
reads it as it reads a step's, the run document lists the monitor with how it ended, and the
dashboard's run page shows it with its last lines."""

from __future__ import annotations

import json

import httpx

from tests.conftest import write_plan
from tests.server.conftest import Served


def test_a_monitors_log_is_served_like_a_steps(served: Served) -> None:
    plan = write_plan(
        served.cwd,
        """
        version: 1
        name: watched
        phases:
          - id: deploy
            monitors:
              - name: pods
                run: 'while :; do echo "web-1 Running"; sleep 0.1; done'
            steps:
              - {id: work, run: "sleep 0.6; echo deployed"}
        """,
    )
    ran = served.cli("run", str(plan), "--no-output")
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(served.cli("status", "--json").stdout)["run"]["id"]
    created = served.cli("token", "create", "--name", "viewer", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    served.start()
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as client:
        logs = client.get(f"/api/v1/runs/{run_id}/logs", params={"item": "monitor:pods"})
        assert logs.status_code == 200, logs.text
        [entry] = logs.json()
        assert entry["key"] == "deploy/monitor:pods" and entry["status"] == "stopped"
        assert entry["text"].count("web-1 Running") >= 2
        every = client.get(f"/api/v1/runs/{run_id}/logs").json()
        assert [e["key"] for e in every] == ["deploy/work", "deploy/monitor:pods"]
        doc = client.get(f"/api/v1/runs/{run_id}").json()
        [monitor] = doc["monitors"]
        assert (monitor["name"], monitor["status"], monitor["on"]) == (
            "pods",
            "stopped",
            "phase succeeded",
        )
    # the dashboard's run page shows the monitor and its last lines (a real login session)
    with httpx.Client(base_url=served.url, timeout=30, follow_redirects=True) as browser:
        login = browser.post(
            "/ui/login", data={"token": created.stdout.strip(), "next": f"/ui/runs/{run_id}"}
        )
        assert login.status_code == 200, login.text
        page = login.text
        assert '<section class="monitors">' in page and "deploy / pods" in page
        assert "web-1 Running" in page
