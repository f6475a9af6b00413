"""Every route of the real app, for every identity: who may use it, that a refusal changes
nothing, and that no body anyone can read carries a secret.

The route table (``TABLE``) places each route the app serves (FastAPI's route table: the API,
the dashboard, the mounts, every method) at the least role that may use it. A route the app
serves and the table does not place fails ``test_every_route_is_placed``: a new endpoint must
be placed consciously, with its least role.

One real server per module (uvicorn on 127.0.0.1 in a thread, real worker processes, the
SQLite journal) holds real runs of a plan with three secrets (one given in ``vars`` at the
start, one literal in the plan, one from the server's environment through ``--pass-env``),
echoed by a step and by its undo: a run paused at a manual gate (the target of operator
actions), a run whose step failed and rolled back, their reports and logs, and a schedule
whose variables hold a secret. Then, for every route and identity (no credentials, a
malformed and an unknown token, a revoked admin token and its session, an expired session,
viewer, operator, admin):

- below the route's least role: 401/403 (the dashboard: its redirect to the sign-in page),
  and the journal exactly as before (each run's last seq and status, the lanes, the lane
  history, the schedules);
- at or above it: neither 401/403 nor 5xx (a read: 200);
- every body and header (JSON, HTML, report formats, logs, the first events of every SSE
  stream, redirects' Location) never carries a secret, nor its URL-encoded or base64 forms.

Mutations run last, each on a run of its own (started for it and paused at its gate), first
for the least role, then for admin on the same run; after them every run's reads are checked
again, now with the rollbacks' output in the logs.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import uvicorn
from canary_lab.ports import free_port
from canary_lab.process import descendants
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.routing import Mount

from phasegate.schedules.spec import build_spec
from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from phasegate.server.dashboard.routes import HERE as DASHBOARD_DIR
from phasegate.server.dashboard.sessions import COOKIE
from phasegate.server.tokens import TokenStore
from phasegate.store.backends import open_journal, open_ledger
from phasegate.store.schedules import ScheduleRecord
from phasegate.store.server_db import ServerDb
from tests.server.conftest import make_tokens, wait_for

# Three secrets, with characters that URL-encoding and base64 change.
GIVEN = "gvn-S3cret/Value+Zq=9"  # given in `vars` when a run starts: never stored
LITERAL = "lit-S3cret+Plan/Value"  # written in the plan (`value:`)
FROM_ENV = "env-S3cret/Server+Side"  # the server's environment, passed with --pass-env
ENV_NAME = "PG_MATRIX_SERVER_SECRET"
SECRETS = (GIVEN, LITERAL, FROM_ENV)

PAUSED_PLAN = f"""\
version: 1
name: matrix
vars:
  GIVEN: {{secret: true}}
  LITERAL: {{secret: true, value: {LITERAL}}}
  FROM_ENV: {{env: {ENV_NAME}, secret: true}}
phases:
  - id: p
    steps:
      - id: say
        run: 'echo "given=${{GIVEN}} literal=${{LITERAL}} env=${{FROM_ENV}}"'
        undo: 'echo "undo given=${{GIVEN}} literal=${{LITERAL}}"'
    gates:
      - {{manual: "release manager says go", id: go}}
"""
FAILING_PLAN = (
    PAUSED_PLAN.replace("name: matrix", "name: matrix-fails")
    .replace('    gates:\n      - {manual: "release manager says go", id: go}\n', "")
    .rstrip("\n")
    + "\n      - {id: boom, run: 'echo \"boom ${GIVEN} ${FROM_ENV}\" >&2; exit 3'}\n"
)
# The dashboard's buttons send no variables: their runs' secrets come from the plan and the
# server's environment only (a secret given at the start is needed again by any action).
UI_TARGET_PLAN = (
    PAUSED_PLAN.replace("  GIVEN: {secret: true}\n", "")
    .replace("given=${GIVEN} ", "")
    .replace("undo given=${GIVEN} ", "undo ")
)
# A run executing a step when the reads happen: its output so far, live.
LIVE_PLAN = (
    PAUSED_PLAN.replace("name: matrix\n", "name: matrix-live\n")
    .replace(
        "env=${FROM_ENV}\"'",
        "env=${FROM_ENV}\"; sleep 300'",
    )
    .replace('    gates:\n      - {manual: "release manager says go", id: go}\n', "")
)
SUCCEEDING_PLAN = """\
version: 1
name: matrix-quick
phases:
  - id: p
    steps:
      - {id: say, run: 'echo quick'}
"""
SETTLED = ("paused", "succeeded", "failed", "rolled_back", "aborted", "cancelled", "waiting")

LEVEL = {"public": -1, "viewer": 1, "operator": 2, "admin": 3}  # -1: anybody at all


def secret_forms() -> dict[str, str]:
    """Each secret as it could leak: itself, URL-encoded (path, query, form), base64."""
    forms: dict[str, str] = {}
    for secret in SECRETS:
        raw = secret.encode()
        for form in (
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        ):
            forms[form] = secret
    return forms


FORMS = secret_forms()


# -- identities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    name: str
    level: int  # -1: nobody the server recognises; else LEVEL of its role
    headers: dict[str, str] = field(default_factory=dict)  # for the API
    cookie: str | None = None  # for the dashboard
    session_only: bool = False  # a session cookie and no token: nobody to the API

    def level_on(self, rule: Rule) -> int:
        return -1 if self.session_only and not rule.ui else self.level


# -- the route table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    form: dict[str, str] | None = None
    stream: bool = False
    ok: tuple[int, ...] = (200,)  # what the least role may get (a read: 200)
    least: str | None = None  # a request that needs more than its route (else the route's)


@dataclass(frozen=True)
class Rule:
    least: str  # "public", "viewer", "operator" or "admin"
    ui: bool = False  # a dashboard route: cookie sessions; a refusal may be its redirect
    mutates: bool = False


# Every route the app serves: (method, path) -> its least role. A mount is ("MOUNT", prefix).
TABLE: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/openapi.json"): Rule("public"),
    ("HEAD", "/api/v1/openapi.json"): Rule("public"),
    ("GET", "/api/v1/docs"): Rule("public"),
    ("HEAD", "/api/v1/docs"): Rule("public"),
    ("GET", "/docs/oauth2-redirect"): Rule("public"),
    ("HEAD", "/docs/oauth2-redirect"): Rule("public"),
    ("GET", "/healthz"): Rule("public"),
    ("MOUNT", "/metrics"): Rule("public"),  # open by default (docs/server.md)
    ("GET", "/api/v1/me"): Rule("viewer"),
    ("POST", "/api/v1/plans/validate"): Rule("viewer"),
    ("POST", "/api/v1/plans/preview"): Rule("viewer"),
    ("POST", "/api/v1/runs"): Rule("operator", mutates=True),
    ("GET", "/api/v1/runs"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}/events"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}/logs"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}/estimate"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}/report"): Rule("viewer"),
    ("GET", "/api/v1/runs/{run_id}/events/stream"): Rule("viewer"),
    ("POST", "/api/v1/runs/{run_id}/approve"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/monitoring/finish"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/abort"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/rollback"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/resume"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/promote"): Rule("operator", mutates=True),
    ("POST", "/api/v1/runs/{run_id}/reject"): Rule("operator", mutates=True),
    ("GET", "/api/v1/programs/{run_id}/next"): Rule("viewer"),
    ("GET", "/api/v1/schedules"): Rule("viewer"),
    ("GET", "/api/v1/schedules/{name}"): Rule("viewer"),
    ("GET", "/api/v1/portfolio"): Rule("viewer"),
    ("GET", "/api/v1/lanes/history"): Rule("viewer"),
    ("PUT", "/api/v1/lanes/{name}"): Rule("operator", mutates=True),
    ("GET", "/"): Rule("public", ui=True),
    ("MOUNT", "/ui/static"): Rule("public", ui=True),
    ("GET", "/ui"): Rule("public", ui=True),
    ("GET", "/ui/login"): Rule("public", ui=True),
    ("POST", "/ui/login"): Rule("public", ui=True),
    ("POST", "/ui/logout"): Rule("public", ui=True),
    ("GET", "/ui/runs"): Rule("viewer", ui=True),
    ("GET", "/ui/schedules"): Rule("viewer", ui=True),
    ("GET", "/ui/portfolio"): Rule("viewer", ui=True),
    ("GET", "/ui/runs/stream"): Rule("viewer", ui=True),
    ("GET", "/ui/runs/{run_id}"): Rule("viewer", ui=True),
    ("GET", "/ui/runs/{run_id}/report"): Rule("viewer", ui=True),
    ("GET", "/ui/runs/{run_id}/plan"): Rule("viewer", ui=True),
    ("GET", "/ui/runs/{run_id}/stream"): Rule("viewer", ui=True),
    ("POST", "/ui/runs"): Rule("operator", ui=True, mutates=True),
    ("POST", "/ui/lanes/{name}"): Rule("operator", ui=True, mutates=True),
    ("POST", "/ui/runs/{run_id}/{action}"): Rule("operator", ui=True, mutates=True),
}

# The dashboard's buttons (``POST /ui/runs/{run_id}/{action}``) checked here, each on its run.
UI_ACTIONS = ("approve", "reject", "promote", "abort", "rollback", "resume")
# The API's run actions, each on its run, and what the least role gets on a paused run.
API_ACTIONS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "approve": ({"comment": "go", "check": "go"}, (200,)),
    "reject": ({"comment": "no-go", "vars": {"GIVEN": GIVEN}}, (202,)),
    "promote": ({"full": False, "vars": {"GIVEN": GIVEN}}, (202,)),
    "abort": ({"reason": "stop", "vars": {"GIVEN": GIVEN}}, (202,)),
    "rollback": ({"vars": {"GIVEN": GIVEN}}, (202,)),
    "resume": ({"vars": {"GIVEN": GIVEN}}, (202, 409)),  # a paused run: resumed, or 409
    "monitoring/finish": ({"reason": "done"}, (409,)),  # not monitoring: run_state
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, mounts as ("MOUNT", prefix)."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
            continue
        assert context.path, route
        for method in context.methods or ():
            found.add((method, context.path))
    return found


# -- the server ------------------------------------------------------------------------------


@dataclass
class World:
    url: str
    app: FastAPI
    state: Path
    store_url: str | None
    plans: Path
    tokens: dict[str, str]
    who: dict[str, Who]
    paused: str = ""  # the run waiting at its manual gate
    failed: str = ""  # the run whose step failed, rolled back
    live: str = ""  # the run executing a step (sleeping after it echoed the secrets)
    client: httpx.Client = field(init=False)
    fresh_runs: list[str] = field(default_factory=list)
    csrf_of: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    # -- the journal as a value: what a refused request must leave as it was -----------------
    def journal(self) -> tuple[Any, ...]:
        store = open_journal(self.state, readonly=True, url=self.store_url)
        try:
            heads = sorted((h.id, h.last_seq, h.status) for h in store.run_heads())
            lanes = sorted((lane.name, lane.cap, lane.weight) for lane in store.lanes())
            changes = len(store.lane_changes(limit=10_000))
            schedules = sorted(s.name for s in store.schedules())
            return (tuple(heads), tuple(lanes), changes, tuple(schedules))
        finally:
            store.close()

    def start(self, plan: str, who: str = "alice", given: bool = True) -> str:
        body = {"plan": plan, "vars": {"GIVEN": GIVEN} if given else {}}
        response = self.client.post(
            "/api/v1/runs", json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )
        assert response.status_code == 201, response.text
        run_id: str = response.json()["id"]
        return run_id

    def status(self, run_id: str) -> str:
        store = open_journal(self.state, readonly=True, url=self.store_url)
        try:
            head = store.run_head(run_id)
            return "" if head is None else head.status
        finally:
            store.close()

    def settle(self, *run_ids: str) -> None:
        for run_id in run_ids:
            wait_for(lambda r=run_id: self.status(r) in SETTLED, f"run {run_id} to settle")
        assert self.app.state.pool.join(120), "workers still busy"

    # -- one request, as an identity ----------------------------------------------------------
    def send(self, who: Who, call: Call, csrf: str | None = None) -> httpx.Response:
        headers = dict(who.headers)
        if who.cookie is not None:
            headers["Cookie"] = f"{COOKIE}={who.cookie}"
        form = call.form
        if form is not None:
            form = {**form, "csrf": csrf or ""}
            headers["Origin"] = self.url
        self.client.cookies.clear()  # every identity sends exactly its own credentials
        if call.stream:
            return self.read_stream(call, headers)
        return self.client.request(
            call.method, call.path, headers=headers, json=call.json, data=form
        )

    def read_stream(self, call: Call, headers: dict[str, str]) -> httpx.Response:
        """The first events of an SSE stream (all of them when it ends by itself), as a
        response whose text is what was read."""
        text = ""
        timeout = httpx.Timeout(30, read=10)
        with self.client.stream(call.method, call.path, headers=headers, timeout=timeout) as got:
            kind = got.headers.get("content-type", "")
            if got.status_code != 200 or not kind.startswith("text/event-stream"):
                got.read()
                return got
            deadline = time.monotonic() + 20
            for chunk in got.iter_text():
                text += chunk.replace("\r\n", "\n")
                events = [e for e in text.split("\n\n")[:-1] if "data:" in e]
                if "event: end" in text or time.monotonic() > deadline:
                    break
                if call.path.startswith("/ui/") and events:
                    break  # the dashboard's first update: the whole fragment
                last = re.findall(r"^id: (\d+)$", text, re.M)
                if (
                    not call.path.startswith("/ui/")
                    and last
                    and int(last[-1]) >= self.last_seq(call.path.split("/")[4])
                ):
                    break  # every event of a live run: the stream now waits
        return httpx.Response(got.status_code, headers=got.headers, text=text)

    def last_seq(self, run_id: str) -> int:
        store = open_journal(self.state, readonly=True, url=self.store_url)
        try:
            head = store.run_head(run_id)
            return 0 if head is None else head.last_seq
        finally:
            store.close()

    def csrf(self, who: Who) -> str:
        if who.name in self.csrf_of:
            return self.csrf_of[who.name]
        page = self.send(who, Call("GET", "/ui/runs"))
        assert page.status_code == 200, page.text
        found = re.search(r'name="phasegate-csrf" content="([^"]+)"', page.text)
        assert found, "no CSRF token on the page"
        self.csrf_of[who.name] = found.group(1)
        return found.group(1)

    def logs(self, run_id: str) -> str:
        viewer = self.who["viewer"]
        return self.send(viewer, Call("GET", f"/api/v1/runs/{run_id}/logs")).text

    def stop_live(self) -> None:
        """End the executing run (force: its step is killed at once), and wait for it."""
        if self.live and self.status(self.live) in ("running", "pending"):
            body = {"reason": "matrix done", "force": True, "vars": {"GIVEN": GIVEN}}
            done = self.send(
                self.who["operator"], Call("POST", f"/api/v1/runs/{self.live}/abort", json=body)
            )
            assert done.status_code == 202, done.text
            self.settle(self.live)


def login(url: str, token: str) -> str:
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        done = client.post("/ui/login", data={"token": token, "next": "/ui/runs"})
        assert done.status_code == 303, done.text
        cookie = done.cookies.get(COOKIE)
        assert cookie
        return cookie


def expired_session(state: Path, name: str) -> str:
    """A session for a valid token, signed with the server's own key, issued after the token,
    whose signature is 9 h old: the 8 h limit alone must refuse it."""

    class NineHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 9 * 3600

    key = (state / "server" / "session.key").read_bytes()
    serializer = URLSafeTimedSerializer(key, salt="phasegate-session", signer=NineHoursAgo)
    return serializer.dumps({"n": name, "r": "admin", "x": "nonce-x", "t": time.time()})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    base = tmp_path_factory.mktemp(f"matrix-{request.param}")
    state, plans = base / "state", base / "plans"
    plans.mkdir()
    store_url = None
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
        from tests.store.pg_cluster import database_url

        store_url = database_url(base / "db")
    patch = pytest.MonkeyPatch()
    patch.setenv(ENV_NAME, FROM_ENV)
    tokens = make_tokens(state, store_url)
    ledger = open_ledger(state, url=store_url) if store_url else ServerDb(state)
    gone = TokenStore(ledger).create("gone", "admin")  # revoked below, after it signs in
    (plans / "matrix.yaml").write_text(PAUSED_PLAN)
    spec = build_spec(
        name="nightly",
        plan=str(plans / "matrix.yaml"),
        cron=None,
        every=None,
        calendar="daily 02:00",
        timezone="UTC",
        variables={},
        missed="skip",
    )
    journal = open_journal(state, url=store_url)
    try:
        assert journal.add_schedule(ScheduleRecord("nightly", spec, time.time(), "ops"))
    finally:
        journal.close()
    config = ServerConfig(
        state_dir=state,
        store_url=store_url,
        # As by default (the working directory, with ./.phasegate in it): the state
        # directory lies under the plan root.
        plan_root=base,
        workers=4,
        pass_env=(ENV_NAME,),
        run_schedules=False,
        # Refused tokens are the point here: no address runs out of attempts.
        auth_failure_burst=100_000,
    )
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: server.started, "uvicorn to start", attempts=200)
    try:
        cookies = {who: login(url, tokens[who]) for who in ("viewer", "alice", "admin")}
        gone_cookie = login(url, gone)
        TokenStore(ledger).revoke("gone")
        bearer = {who: {"Authorization": f"Bearer {tokens[who]}"} for who in tokens}
        identities = [
            Who("nobody", -1),
            Who("malformed token", -1, {"Authorization": "Bearer nope"}, "forged.cookie"),
            Who("unknown token", -1, {"Authorization": f"Bearer pg_0123456789ab_{'x' * 43}"}),
            Who("revoked admin", -1, {"Authorization": f"Bearer {gone}"}, gone_cookie),
            Who("expired session", -1, cookie=expired_session(state, "admin")),
            Who("viewer", 1, bearer["viewer"], cookies["viewer"]),
            Who("operator", 2, bearer["alice"], cookies["alice"]),
            Who("admin", 3, bearer["admin"], cookies["admin"]),
            # The API takes no cookie: a browser would send it on a cross-site post.
            Who("admin session, no token", 3, cookie=cookies["admin"], session_only=True),
        ]
        world = World(url, app, state, store_url, plans, tokens, {w.name: w for w in identities})
        world.live = world.start(LIVE_PLAN)
        world.paused = world.start(PAUSED_PLAN)
        world.failed = world.start(FAILING_PLAN)
        for run_id in (world.paused, world.failed):
            wait_for(lambda r=run_id: world.status(r) in SETTLED, f"run {run_id} to settle")
        assert world.status(world.paused) == "paused"
        assert world.status(world.failed) in ("rolled_back", "failed")
        # The live run has echoed the secrets (its log is flushed) and sleeps in its step.
        wait_for(lambda: "env=***" in world.logs(world.live), "the live step's output")
        assert world.status(world.live) == "running"
        try:
            yield world
        finally:
            world.stop_live()
            world.client.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert app.state.pool.join(120), "workers still busy"
        close = getattr(ledger, "close", None)
        if close is not None and store_url:
            close()
        patch.undo()


# -- the calls each route gets ---------------------------------------------------------------


def calls_for(key: tuple[str, str], w: World, run_id: str) -> list[Call]:
    """The concrete requests of a route, its path parameters filled with real names."""
    method, path = key
    api_run = f"/api/v1/runs/{run_id}"
    # A plan of its own name: the paused runs' plan lock never answers for the role check.
    start_body = {"plan": named(PAUSED_PLAN, "matrix-started"), "vars": {"GIVEN": GIVEN}}
    plan_form = {"plan": SUCCEEDING_PLAN}
    fixed: dict[tuple[str, str], list[Call]] = {
        ("GET", "/api/v1/openapi.json"): [Call("GET", path)],
        ("HEAD", "/api/v1/openapi.json"): [Call("HEAD", path)],
        ("GET", "/api/v1/docs"): [Call("GET", path)],
        ("HEAD", "/api/v1/docs"): [Call("HEAD", path)],
        ("GET", "/docs/oauth2-redirect"): [Call("GET", path)],
        ("HEAD", "/docs/oauth2-redirect"): [Call("HEAD", path)],
        ("GET", "/healthz"): [Call("GET", path)],
        ("MOUNT", "/metrics"): [Call("GET", "/metrics/")],
        ("GET", "/api/v1/me"): [Call("GET", path)],
        ("POST", "/api/v1/plans/validate"): [Call("POST", path, json=start_body)],
        ("POST", "/api/v1/plans/preview"): [Call("POST", path, json=start_body)],
        ("POST", "/api/v1/runs"): [
            Call("POST", path, json=start_body, ok=(201,)),
            # Waiving a policy is the admin's (this server has no pack: 422 for an admin).
            Call(
                "POST",
                path,
                json={**start_body, "override_policies": ["p"], "override_reason": "why"},
                ok=(422,),
                least="admin",
            ),
        ],
        ("GET", "/api/v1/runs"): [Call("GET", path), Call("GET", f"{path}?limit=2")],
        ("GET", "/api/v1/runs/{run_id}"): [Call("GET", api_run)],
        ("GET", "/api/v1/runs/{run_id}/events"): [Call("GET", f"{api_run}/events?after=0")],
        ("GET", "/api/v1/runs/{run_id}/logs"): [
            Call("GET", f"{api_run}/logs"),
            Call("GET", f"{api_run}/logs?item=p/say"),
        ],
        ("GET", "/api/v1/runs/{run_id}/estimate"): [Call("GET", f"{api_run}/estimate")],
        ("GET", "/api/v1/runs/{run_id}/report"): [
            Call("GET", f"{api_run}/report?format={f}") for f in ("json", "md", "html")
        ],
        ("GET", "/api/v1/runs/{run_id}/events/stream"): [
            Call("GET", f"{api_run}/events/stream", stream=True)
        ],
        # Not a program: answered as such, never a 5xx.
        ("GET", "/api/v1/programs/{run_id}/next"): [
            Call("GET", f"/api/v1/programs/{run_id}/next", ok=(200, 404, 409, 422))
        ],
        ("GET", "/api/v1/schedules"): [Call("GET", path)],
        ("GET", "/api/v1/schedules/{name}"): [Call("GET", "/api/v1/schedules/nightly")],
        ("GET", "/api/v1/portfolio"): [Call("GET", path)],
        ("GET", "/api/v1/lanes/history"): [Call("GET", path)],
        ("PUT", "/api/v1/lanes/{name}"): [
            Call("PUT", "/api/v1/lanes/matrix-lane", json={"max": 3, "weight": 2})
        ],
        ("GET", "/"): [Call("GET", path, ok=(303,))],
        ("MOUNT", "/ui/static"): [
            Call("GET", f"/ui/static/{name}")
            for name in sorted(os.listdir(DASHBOARD_DIR / "static"))
        ],
        ("GET", "/ui"): [Call("GET", path, ok=(303,))],
        ("GET", "/ui/login"): [Call("GET", f"{path}?next=/ui/runs/{run_id}")],
        # A sign-in with a wrong token: the page again, 401; nobody is signed in.
        ("POST", "/ui/login"): [Call("POST", path, form={"token": GIVEN}, ok=(401,))],
        ("POST", "/ui/logout"): [Call("POST", path, form={}, ok=(303,))],
        ("GET", "/ui/runs"): [Call("GET", path), Call("GET", f"{path}?flash=hello&kind=info")],
        ("GET", "/ui/schedules"): [Call("GET", path)],
        ("GET", "/ui/portfolio"): [Call("GET", path)],
        ("GET", "/ui/runs/stream"): [Call("GET", path, stream=True)],
        ("GET", "/ui/runs/{run_id}"): [Call("GET", f"/ui/runs/{run_id}")],
        ("GET", "/ui/runs/{run_id}/report"): [Call("GET", f"/ui/runs/{run_id}/report")],
        ("GET", "/ui/runs/{run_id}/plan"): [Call("GET", f"/ui/runs/{run_id}/plan")],
        ("GET", "/ui/runs/{run_id}/stream"): [
            Call("GET", f"/ui/runs/{run_id}/stream?runway=1", stream=True)
        ],
        ("POST", "/ui/runs"): [Call("POST", path, form=plan_form, ok=(303,))],
        ("POST", "/ui/lanes/{name}"): [
            Call("POST", "/ui/lanes/matrix-lane", form={"max": "2", "weight": "1"}, ok=(303,))
        ],
        ("POST", "/ui/runs/{run_id}/{action}"): [
            Call("POST", f"/ui/runs/{run_id}/{a}", form=ui_form(a), ok=(303,)) for a in UI_ACTIONS
        ],
    }
    if key in fixed:
        return fixed[key]
    action = path.removeprefix("/api/v1/runs/{run_id}/")
    body, ok = API_ACTIONS[action]
    return [Call(method, f"{api_run}/{action}", json=body, ok=ok)]


def named(plan: str, name: str) -> str:
    return plan.replace("name: matrix\n", f"name: {name}\n", 1)


def ui_form(action: str) -> dict[str, str]:
    return {"comment": "why not", "reason": "stop it", "check": "go"} if action else {}


# -- checks ----------------------------------------------------------------------------------


def no_secret(response: httpx.Response, where: str) -> None:
    shown = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for form, secret in FORMS.items():
        assert form not in shown, f"{where}: the secret {secret!r} is in the response ({form!r})"


def refused(response: httpx.Response, rule: Rule) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("location", "")
    return rule.ui and response.status_code == 303 and location.startswith("/ui/login")


def test_every_route_is_placed(world: World) -> None:
    served = served_routes(world.app)
    unplaced = sorted(served - TABLE.keys())
    assert not unplaced, f"routes the table does not place (give each its least role): {unplaced}"
    gone = sorted(TABLE.keys() - served)
    assert not gone, f"the table places routes the app no longer serves: {gone}"
    # Every route is exercised by at least one concrete request.
    for key in TABLE:
        assert calls_for(key, world, world.paused), key


def test_below_the_least_role_is_refused_and_changes_nothing(world: World) -> None:
    checked = 0
    for key, rule in TABLE.items():
        for call in calls_for(key, world, world.paused):
            for who in world.who.values():
                if who.level_on(rule) >= LEVEL[call.least or rule.least]:
                    continue
                csrf = world.csrf(who) if call.form is not None and who.level >= 1 else None
                before = world.journal()
                response = world.send(who, call, csrf)
                where = f"{who.name} {call.method} {call.path}"
                assert refused(response, rule), (
                    f"{where}: {response.status_code} {response.text[:500]}"
                )
                assert world.journal() == before, f"{where}: the journal changed"
                no_secret(response, where)
                checked += 1
    assert checked > 150


def test_at_or_above_the_least_role_reads_and_no_body_carries_a_secret(world: World) -> None:
    before = world.journal()
    checked = 0
    for key, rule in TABLE.items():
        if rule.mutates:
            continue
        for who in world.who.values():
            if who.level_on(rule) < LEVEL[rule.least]:
                continue
            for run_id in (world.paused, world.failed, world.live):
                for call in calls_for(key, world, run_id):
                    if who.level_on(rule) < LEVEL[call.least or rule.least]:
                        continue
                    caller = who
                    if key == ("POST", "/ui/logout") and who.cookie and who.level >= 1:
                        # Signing out ends a session: the shared one stays, its own copy ends.
                        caller = own_session(world, who)
                    signed_in = call.form is not None and caller.level >= 1
                    csrf = world.csrf(caller) if signed_in else None
                    response = world.send(caller, call, csrf)
                    where = f"{caller.name} {call.method} {call.path}"
                    assert response.status_code in call.ok, (
                        f"{where}: {response.status_code} {response.text[:500]}"
                    )
                    no_secret(response, where)
                    checked += 1
    # Reading, signing in with a wrong token, signing out: nothing journalled.
    assert world.journal() == before
    assert checked > 300


def test_unknown_names_are_answered_never_a_5xx_nor_a_change(world: World) -> None:
    """Every route with a path parameter, named something that does not exist, by admin (no
    role check stands in front): a 404 (the dashboard: its page or redirect saying so), never
    a 5xx, and the journal as it was."""
    admin = world.who["admin"]
    before = world.journal()
    for key, rule in TABLE.items():
        if "{" not in key[1]:
            continue
        for bogus in ("20000101-000000-abcdef", "no such run"):
            if "{name}" in key[1] and "lanes" in key[1] and " " not in bogus:
                continue  # any well-formed lane name is a lane (setting it creates it)
            for template in calls_for(key, world, quote(bogus, safe="")):
                call = unknown_name(template, bogus)
                csrf = world.csrf(admin) if call.form is not None else None
                response = world.send(admin, call, csrf)
                where = f"admin {call.method} {call.path}"
                assert response.status_code < 500, f"{where}: {response.text[:500]}"
                assert not refused(response, rule), where
                if not rule.ui:
                    assert response.status_code in (404, 422), f"{where}: {response.text[:300]}"
                no_secret(response, where)
    assert world.journal() == before


def unknown_name(call: Call, bogus: str) -> Call:
    """The call with its schedule or lane name replaced too (a run id is already)."""
    name = quote(bogus, safe="")
    path = call.path.replace("/schedules/nightly", f"/schedules/{name}")
    path = path.replace("/lanes/matrix-lane", f"/lanes/{name}")  # not a lane name: 422
    return Call(call.method, path, call.json, call.form, call.stream, call.ok, call.least)


def test_a_signed_out_session_is_refused_everywhere(world: World) -> None:
    """Signing out ends the session on the server, not only in the browser that held it: a
    copy of its cookie (another tab, a proxy's log, a stolen one) is refused by every
    dashboard route afterwards, like a revoked token's."""
    cookie = login(world.url, world.tokens["viewer"])
    who = Who("signed out viewer", -1, cookie=cookie)
    assert world.send(who, Call("GET", "/ui/runs")).status_code == 200
    csrf = world.csrf(who)
    out = world.send(who, Call("POST", "/ui/logout", form={}), csrf)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login", out.text
    for key, rule in TABLE.items():
        if not rule.ui or LEVEL[rule.least] < LEVEL["viewer"]:
            continue
        for call in calls_for(key, world, world.paused):
            response = world.send(who, call, csrf)
            assert refused(response, rule), f"{call.method} {call.path}: {response.status_code}"
    # Another session of the same token stands.
    assert world.send(world.who["viewer"], Call("GET", "/ui/runs")).status_code == 200


def test_the_state_directory_is_no_plan_source(world: World) -> None:
    """The state directory lies under the plan root (as ./.phasegate under the working
    directory by default): naming its files as a plan_path is refused for every role, so a
    viewer learns neither which exist nor a byte of them (the session key's first non-UTF-8
    byte was in a "not UTF-8 text (byte 0x..)" problem), and nothing starts."""
    key_bytes = (world.state / "server" / "session.key").read_bytes()
    inline = next((world.state / "plans").glob("*.yaml")).name
    names = [
        "state/server/session.key",
        "state/server.db",
        "state/phasegate.db",
        f"state/plans/{inline}",  # an inline plan's copy: the plan as sent, literal secrets
        "state/no-such-file",
        "plans/../state/server/session.key",
    ]
    before = world.journal()
    for who in ("viewer", "operator", "admin"):
        for name in names:
            for path in ("/api/v1/plans/validate", "/api/v1/plans/preview", "/api/v1/runs"):
                if path == "/api/v1/runs" and who == "viewer":
                    continue  # refused for its role already (the matrix)
                call = Call("POST", path, json={"plan_path": name, "vars": {"GIVEN": GIVEN}})
                response = world.send(world.who[who], call)
                where = f"{who} {path} {name}"
                assert response.status_code == 403, f"{where}: {response.text}"
                error = response.json()["error"]
                assert error["code"] == "forbidden", where
                assert "state directory" in error["message"], where
                assert str(world.state) not in response.text, where
                assert "byte 0x" not in response.text, where
                # (as 0x.., the form the problem used: two bare hex digits are in every
                # inline plan's sha256 file name)
                assert f"0x{key_bytes[0]:02x}" not in response.text.lower(), where
                no_secret(response, where)
    assert world.journal() == before
    # A plan under the plan root, outside the state directory, still validates.
    fine = Call("POST", "/api/v1/plans/validate", json={"plan_path": "plans/matrix.yaml"})
    assert world.send(world.who["viewer"], fine).json()["valid"] is True


def test_no_process_shows_a_secret_in_its_command_line(world: World) -> None:
    """While the live run's step executes: the server's workers and the step's processes
    carry no secret in their command lines (``/proc/PID/cmdline`` is world-readable, what
    `ps` shows every user of the machine)."""
    assert world.status(world.live) == "running"
    processes = descendants(os.getpid())
    lines = {pid: proc_text(pid, "cmdline") for pid in processes}
    assert any(b"sleep" in line and b"300" in line for line in lines.values()), lines
    for pid, line in lines.items():
        for form, secret in FORMS.items():
            assert form.encode() not in line, f"pid {pid}: {secret!r} in {line!r}"


def proc_text(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def own_session(world: World, who: Who) -> Who:
    """``who`` with a session of its own, signed in now with the same token."""
    token = {"viewer": "viewer", "operator": "alice"}.get(who.name, "admin")
    world.csrf_of.pop(f"{who.name} (own session)", None)
    cookie = login(world.url, world.tokens[token])
    return dataclasses.replace(who, name=f"{who.name} (own session)", cookie=cookie)


def test_mutations_for_each_allowed_role_on_runs_of_their_own(world: World) -> None:
    """Each mutation on a run of its own, paused at its gate: the least role gets its
    answer and the journal moves; admin on the same run is never refused nor a 5xx."""
    world.stop_live()  # its worker is needed, and its abort rolls it back (a mutation too)
    assert "=== killed by signal" in world.logs(world.live)
    mutating = [(key, rule) for key, rule in TABLE.items() if rule.mutates]
    places = [
        (key, index)
        for key, _ in mutating
        if "{run_id}" in key[1]
        for index, _ in enumerate(calls_for(key, world, "x"))
    ]
    # Each its own plan name: a paused run holds its plan's lock.
    targets = {
        place: world.start(named(UI_TARGET_PLAN, f"target-{n}"), given=False)
        if TABLE[place[0]].ui
        else world.start(named(PAUSED_PLAN, f"target-{n}"))
        for n, place in enumerate(places)
    }
    world.fresh_runs.extend(targets.values())
    world.settle(*targets.values())
    for key, rule in mutating:
        for index, template in enumerate(calls_for(key, world, "x")):
            run_id = targets.get((key, index), world.paused)
            call = calls_for(key, world, run_id)[index]
            least = template.least or rule.least
            for who in (world.who[least], world.who["admin"]):
                csrf = world.csrf(who) if rule.ui else None
                before = world.journal()
                response = world.send(who, call, csrf)
                where = f"{who.name} {call.method} {call.path}"
                assert not refused(response, rule), f"{where}: refused {response.status_code}"
                assert response.status_code < 500, f"{where}: {response.text}"
                no_secret(response, where)
                if rule.ui:
                    # The button's outcome is the redirect's flash message, never a refusal.
                    assert response.status_code == 303, f"{where}: {response.text}"
                if who is world.who[least]:
                    assert response.status_code in template.ok, f"{where}: {response.text}"
                    location = response.headers.get("location", "")
                    if response.status_code < 300 or (rule.ui and "kind=error" not in location):
                        settled_or_moved = lambda b=before: world.journal() != b  # noqa: E731
                        wait_for(settled_or_moved, f"{where} to change the journal")
    # Runs the mutations started (POST /api/v1/runs, POST /ui/runs) and continued.
    store = open_journal(world.state, readonly=True, url=world.store_url)
    try:
        every = [h.id for h in store.run_heads()]
    finally:
        store.close()
    world.settle(*every)
    world.fresh_runs[:] = every


def test_after_the_mutations_no_run_shows_a_secret_to_a_viewer(world: World) -> None:
    """Every run's reads again, now that the actions rolled runs back (the undo echoed the
    secrets) and continued others."""
    if not world.fresh_runs:
        pytest.skip("needs the mutations test")
    viewer = world.who["viewer"]
    for run_id in world.fresh_runs:
        for key, rule in TABLE.items():
            if rule.mutates or "{run_id}" not in key[1]:
                continue
            for call in calls_for(key, world, run_id):
                response = world.send(viewer, call)
                where = f"viewer {call.method} {call.path}"
                assert response.status_code in call.ok, f"{where}: {response.text[:500]}"
                no_secret(response, where)


def test_the_fixture_plans_really_echo_the_secrets(world: World) -> None:
    """The matrix means something only if the steps wrote the secrets: the logs hold the mask
    where they were (masking happened), and the output around it."""
    viewer = world.who["viewer"]
    logs = world.send(viewer, Call("GET", f"/api/v1/runs/{world.failed}/logs")).json()
    text = "\n".join(str(entry) for entry in logs)
    assert "given=***" in text and "literal=***" in text and "env=***" in text, text
    assert "boom *** ***" in text, text


def test_nothing_the_server_wrote_holds_a_secret(world: World) -> None:
    """The journal (SQLite: its file, WAL included), the token and key database, each run's
    worker.log: none holds a secret. The inline plan copies (``plans/<sha256>.yaml``, 0600)
    are the plan as sent, kept so that a resume reads it, and hold what it holds."""
    files = [p for p in world.state.rglob("*") if p.is_file() and p.parent.name != "plans"]
    assert any(p.name == "worker.log" for p in files)
    for path in files:
        data = path.read_bytes()
        for form, secret in FORMS.items():
            assert form.encode() not in data, f"{path.relative_to(world.state)}: {secret!r}"
