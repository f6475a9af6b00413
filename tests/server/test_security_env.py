"""Issue 10 §1.1: no caller reads the server's environment, whatever their role.

A real ``phasegate serve`` runs with a sentinel value in its environment. A viewer and an
operator post plans that name it (``{env: …}``, plain and secret) and run a step that dumps
its whole environment; every read endpoint and dashboard page is then searched for the value.
A variable passed with ``--pass-env`` does reach the run: the allow-list works both ways.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Served, wait_for
from tests.server.test_serve import token

SENTINEL_NAME = "PG_TEST_SERVER_SECRET"
PASSED_NAME = "PG_TEST_PASSED"

PLAN = f"""\
version: 1
name: reads-env
vars:
  PLAIN: {{env: {SENTINEL_NAME}, default: fallback}}
  HIDDEN: {{env: {SENTINEL_NAME}, secret: true, default: hidden-fallback}}
  PASSED: {{env: {PASSED_NAME}}}
phases:
  - id: p
    steps:
      - name: dump
        run: 'echo "plain=${{PLAIN}} passed=${{PASSED}}"; env'
"""


def event_stream(api: httpx.Client, run_id: str) -> str:
    """The run's whole SSE feed: every event, then ``end`` (the run has finished)."""
    text = ""
    with api.stream("GET", f"/api/v1/runs/{run_id}/events/stream") as response:
        assert response.status_code == 200
        for chunk in response.iter_text():
            text += chunk
            if "event: end" in text:
                break
    assert "event: run.started" in text
    return text


def sign_in(client: httpx.Client, secret: str) -> None:
    """A dashboard session: the cookie stays in ``client``."""
    signed_in = client.post("/ui/login", data={"token": secret, "next": "/ui/runs"})
    assert signed_in.status_code == 303, signed_in.text
    assert "phasegate_session" in client.cookies


@pytest.mark.timeout(180)
def test_no_endpoint_reveals_the_servers_environment(served: Served, tmp_path: Path) -> None:
    sentinel = "sentinel-" + secrets.token_hex(12)
    passed = "passed-" + secrets.token_hex(8)
    served.server_env = {SENTINEL_NAME: sentinel, PASSED_NAME: passed}
    served.serve_args = ["--pass-env", PASSED_NAME]
    (served.cwd / "reads-env.yaml").write_text(PLAN)
    secrets_by_role = {  # the operator first: it starts the run both then read
        "operator": token(served, "otto", "operator"),
        "viewer": token(served, "vera", "viewer"),
    }
    served.start()
    bodies: list[tuple[str, str]] = []

    def seen(what: str, response: httpx.Response, status: int = 200) -> httpx.Response:
        assert response.status_code == status, (what, response.text)
        bodies.append((what, response.text))
        return response

    run_id = ""
    for role, secret in secrets_by_role.items():
        api = httpx.Client(
            base_url=served.url, headers={"Authorization": f"Bearer {secret}"}, timeout=60
        )
        with api:
            for source in ({"plan": PLAN}, {"plan_path": "reads-env.yaml"}):
                preview = seen(f"{role} preview", api.post("/api/v1/plans/preview", json=source))
                shown = preview.json()["vars"]
                assert shown["PLAIN"] == f"(from env {SENTINEL_NAME})"
                assert shown["HIDDEN"] == f"(from env {SENTINEL_NAME}, secret)"
                assert shown["PASSED"] == f"(from env {PASSED_NAME})"  # a preview shows none
                result = seen(f"{role} validate", api.post("/api/v1/plans/validate", json=source))
                assert result.json()["valid"] is True
            if role == "operator":
                created = seen("start", api.post("/api/v1/runs", json={"plan": PLAN}), 201)
                run_id = created.json()["id"]

                def finished(api: httpx.Client = api, path: str = f"/api/v1/runs/{run_id}") -> bool:
                    return bool(api.get(path).json()["run"]["status"] in ("succeeded", "failed"))

                wait_for(finished, "the run to finish")
            for path in (
                "/api/v1/runs",
                f"/api/v1/runs/{run_id}",
                f"/api/v1/runs/{run_id}/events",
                f"/api/v1/runs/{run_id}/logs",
                f"/api/v1/runs/{run_id}/report?format=json",
                f"/api/v1/runs/{run_id}/report?format=md",
                f"/api/v1/runs/{run_id}/report?format=html",
                "/api/v1/me",
            ):
                seen(f"{role} GET {path}", api.get(path))
            bodies.append((f"{role} event stream", event_stream(api, run_id)))
        with httpx.Client(base_url=served.url, timeout=30) as ui:
            sign_in(ui, secret)
            for path in (
                "/ui/runs",
                f"/ui/runs/{run_id}",
                f"/ui/runs/{run_id}/report",
                f"/ui/runs/{run_id}/plan",
            ):
                seen(f"{role} {path}", ui.get(path))

    logs = "\n".join(text for what, text in bodies if what.endswith("/logs"))
    # The step ran and dumped its environment: the allow-listed variable is there, both
    # through {env: …} and inherited; the server's other variable took its default.
    assert f"passed={passed}" in logs and f"{PASSED_NAME}={passed}" in logs
    assert "plain=fallback" in logs
    assert "PATH=" in logs  # the base environment a shell needs
    leaked = [what for what, text in bodies if sentinel in text]
    assert leaked == [], f"the server's {SENTINEL_NAME} appears in: {leaked}"
    assert len(bodies) == 2 * 4 + 1 + 2 * (8 + 1 + 4)
