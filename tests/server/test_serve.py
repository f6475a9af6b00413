"""``phasegate serve`` as a real subprocess under uvicorn on 127.0.0.1: tokens from the CLI,
runs over HTTP, a killed server (and worker) resumed on restart, 200 concurrent starts with
one Idempotency-Key."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
from canary_lab.process import descendants, reap

from tests.server.conftest import Served, plan_text, wait_for


def token(served: Served, name: str, role: str) -> str:
    result = served.cli("token", "create", "--name", name, "--role", role)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("pg_")
    return secret


def status(served: Served, client: httpx.Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"{served.url}/api/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def test_token_cli(served: Served) -> None:
    token(served, "alice", "operator")
    listed = json.loads(served.cli("token", "list", "--json").stdout)
    assert [(t["name"], t["role"]) for t in listed] == [("alice", "operator")]
    duplicate = served.cli("token", "create", "--name", "alice", "--role", "viewer")
    assert duplicate.returncode == 2 and "exists" in duplicate.stderr
    assert served.cli("token", "revoke", "alice").returncode == 0
    missing = served.cli("token", "revoke", "alice")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_run_over_http_survives_a_killed_server_and_worker(served: Served, tmp_path: Path) -> None:
    alice = token(served, "alice", "operator")
    served.start()
    go = tmp_path / "go"
    plan = plan_text(
        "waits", f"for i in $(seq 2400); do [ -f {go} ] && break; sleep 0.05; done; [ -f {go} ]"
    ).replace("run: '", "idempotent: true, run: '")
    client = httpx.Client(headers={"Authorization": f"Bearer {alice}"}, timeout=30)
    with client:
        created = client.post(f"{served.url}/api/v1/runs", json={"plan": plan})
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]

        def step_running() -> bool:
            doc = status(served, client, run_id)
            return bool(doc["phases"][0]["items"][0]["status"] == "running")

        wait_for(step_running, "the step to start")
        worker = status(served, client, run_id)["run"]["pid"]
        assert worker != served.proc.pid  # type: ignore[union-attr]
        # A crash of the whole machine, as far as the run can tell: server, worker, step.
        doomed = [served.proc.pid, *descendants(served.proc.pid)]  # type: ignore[union-attr]
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):  # the step's `sleep 0.05`s come and go
                os.kill(pid, signal.SIGKILL)
        served.proc.wait(timeout=30)  # type: ignore[union-attr]
        served.proc = None
        wait_for(
            lambda: (reap(), not any(Path(f"/proc/{p}").exists() for p in doomed))[1],
            "the killed processes to be gone",
        )

        go.write_text("")
        served.start()  # resumes the run whose worker died
        wait_for(
            lambda: status(served, client, run_id)["run"]["status"] == "succeeded",
            "the resumed run to succeed",
        )
        doc = status(served, client, run_id)
        assert doc["run"]["user"] == "token:alice"
        assert doc["resumes"] and doc["resumes"][0]["after"] == "crashed"
    check = served.cli("check")
    assert check.returncode == 0, check.stdout


def test_200_concurrent_starts_with_one_key_create_one_run(served: Served) -> None:
    alice = token(served, "alice", "operator")
    served.start()

    dropped: list[str] = []

    async def storm() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        headers = {"Authorization": f"Bearer {alice}", "Idempotency-Key": "release-7"}
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=60) as client:
            body = {"plan": plan_text("storm")}

            async def start() -> httpx.Response:
                # What the key is for: a client whose connection broke (a reused keep-alive
                # connection the server was closing, on a loaded machine) sends the same
                # request again and gets the same run, never a second one.
                for _ in range(3):
                    try:
                        return await client.post(f"{served.url}/api/v1/runs", json=body)
                    except httpx.TransportError as exc:
                        dropped.append(repr(exc))
                return await client.post(f"{served.url}/api/v1/runs", json=body)

            return await asyncio.gather(*(start() for _ in range(200)))

    responses = asyncio.run(storm())
    assert len(dropped) <= 10, dropped  # a rare broken connection, not a failing server
    assert sorted({r.status_code for r in responses}) == [200, 201]
    assert sum(r.status_code == 201 for r in responses) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(
        r.headers.get("idempotent-replay") == "true" for r in responses if r.status_code == 200
    )
    with httpx.Client(headers={"Authorization": f"Bearer {alice}"}, timeout=30) as client:
        other = client.post(
            f"{served.url}/api/v1/runs",
            json={"plan": plan_text("storm", "echo other")},
            headers={"Idempotency-Key": "release-7"},
        )
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "conflict"
        runs = client.get(f"{served.url}/api/v1/runs").json()["runs"]
        assert len(runs) == 1
        run_id = runs[0]["id"]
        wait_for(
            lambda: status(served, client, run_id)["run"]["status"] == "succeeded",
            "the run to succeed",
        )
