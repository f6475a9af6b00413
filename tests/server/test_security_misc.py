"""Issue 10 §1.6 over HTTP against a real ``phasegate serve``: failed authentications are
rate-limited per client (429 + Retry-After); Idempotency-Key is scoped per token; error
messages do not reveal the state directory; what the server creates is 0600 in 0700
directories (while a step's own files keep the operator's umask); ``--metrics-token-required``.
(The NUL byte in ``plan_path`` is in test_security_limits.py.)"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import httpx

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from tests.server.conftest import Served, TestClient, make_tokens, plan_text, wait_for
from tests.server.test_serve import token


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def wait_done(client: httpx.Client, run_id: str, secret: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        doc: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}", headers=auth(secret)).json()
        return doc if doc["run"]["status"] in ("succeeded", "failed", "rolled_back") else None

    found: dict[str, Any] = wait_for(done, f"run {run_id} to finish")
    return found


def test_failed_authentication_is_rate_limited_per_client(served: Served) -> None:
    viewer = token(served, "vera", "viewer")
    served.start()
    bad = "pg_0123456789ab_" + "x" * 43
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for attempt in range(10):
            refused = client.get("/api/v1/runs", headers=auth(bad))
            assert refused.status_code == 401, attempt
        throttled = client.get("/api/v1/runs", headers=auth(bad))
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "rate_limited"
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 6
        # While throttled, every attempt from this address waits: a right token and the
        # dashboard's sign-in too. Requests without credentials are not attempts.
        assert client.get("/api/v1/runs", headers=auth(viewer)).status_code == 429
        assert client.post("/ui/login", data={"token": viewer}).status_code == 429
        assert client.get("/healthz").status_code == 200
        time.sleep(wait + 0.2)
        assert client.get("/api/v1/runs", headers=auth(viewer)).status_code == 200
        # One failure refilled; a right token spends nothing, a wrong one the refill.
        assert client.post("/ui/login", data={"token": bad}).status_code == 401
        assert client.post("/ui/login", data={"token": bad}).status_code == 429


def test_idempotency_keys_are_scoped_per_token(served: Served) -> None:
    alice = token(served, "alice", "operator")
    bob = token(served, "bob", "operator")
    served.start()
    body = {"plan": plan_text("same-key")}
    key = {"Idempotency-Key": "release-7"}
    with httpx.Client(base_url=served.url, timeout=60) as client:
        first = client.post("/api/v1/runs", json=body, headers={**auth(alice), **key})
        assert first.status_code == 201, first.text
        wait_done(client, first.json()["id"], alice)
        other = client.post("/api/v1/runs", json=body, headers={**auth(bob), **key})
        assert other.status_code == 201, other.text  # bob's key is bob's: a run of his own
        assert other.json()["id"] != first.json()["id"]
        wait_done(client, other.json()["id"], bob)
        for secret, expected in ((alice, first.json()), (bob, other.json())):
            replay = client.post("/api/v1/runs", json=body, headers={**auth(secret), **key})
            assert replay.status_code == 200 and replay.headers["Idempotent-Replay"] == "true"
            assert replay.json()["id"] == expected["id"]
            assert replay.json()["idempotency_key"] == "release-7"
        assert expected["started_by"] == "token:bob"
        listed = client.get("/api/v1/runs", headers=auth(alice)).json()["runs"]
        assert len(listed) == 2


def test_errors_do_not_reveal_the_state_directory(tmp_path: Path) -> None:
    """In-process (the ASGI app over HTTP semantics, no lifespan): a real server refuses to
    start on a journal that is not a database, and this is how to reach every reader with
    one. Each fails with a StoreError whose message names the file."""
    state = tmp_path / "state"
    state.mkdir()
    tokens = make_tokens(state)
    (state / "phasegate.db").write_bytes(b"this is not a SQLite database" * 200)
    app = create_app(ServerConfig(state_dir=state, plan_root=tmp_path))
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing resumes
    shown = str(state.resolve())
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/runs", headers=auth(tokens["viewer"])),
        client.post("/api/v1/runs", json={"plan": plan_text()}, headers=auth(tokens["alice"])),
    ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert shown not in response.text
        assert "<state dir>/phasegate.db" in response.text, response.text
    outside = client.post(
        "/api/v1/plans/validate",
        json={"plan_path": "../state/server.db"},
        headers=auth(tokens["viewer"]),
    )
    assert outside.status_code == 403 and shown not in outside.text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_servers_files_are_private(served: Served, tmp_path: Path) -> None:
    alice = token(served, "alice", "operator")
    served.start()
    made = tmp_path / "made-by-step"
    plan = plan_text("private", f"echo secret-ish output; touch {made}")
    with httpx.Client(base_url=served.url, timeout=60) as client:
        created = client.post("/api/v1/runs", json={"plan": plan}, headers=auth(alice))
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        assert wait_done(client, run_id, alice)["run"]["status"] == "succeeded"
        signed_in = client.post("/ui/login", data={"token": alice})
        assert signed_in.status_code == 303  # the session key exists now
    state = served.state_dir
    private_dirs = [state, state / "plans", state / "runs", state / "runs" / run_id]
    private_files = [
        state / "phasegate.db",
        state / "server.db",
        *state.glob("*.db-wal"),
        *state.glob("*.db-shm"),
        *(state / "plans").glob("*.yaml"),
        state / "runs" / run_id / "worker.log",
        state / "server" / "session.key",
    ]
    assert len(list((state / "plans").glob("*.yaml"))) == 1
    for directory in private_dirs:
        assert mode(directory) == 0o700, (directory, oct(mode(directory)))
    for file in private_files:
        assert mode(file) == 0o600, (file, oct(mode(file)))
    # The step ran with the umask the server was started with, not the server's own 077.
    umask = os.umask(0)
    os.umask(umask)
    assert mode(made) == 0o666 & ~umask


def test_metrics_can_require_a_token(served: Served) -> None:
    viewer = token(served, "vera", "viewer")
    served.start()
    url = f"{served.url}/metrics/"
    assert httpx.get(url, timeout=30).status_code == 200  # by default: open
    served.stop()
    served.serve_args = ["--metrics-token-required"]
    served.start()
    refused = httpx.get(url, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    wrong = httpx.get(url, headers=auth("pg_x"), timeout=30)
    assert wrong.status_code == 401
    scraped = httpx.get(url, headers=auth(viewer), timeout=30)
    assert scraped.status_code == 200
    assert "phasegate_" in scraped.text
