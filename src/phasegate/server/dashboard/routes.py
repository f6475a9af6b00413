"""The dashboard's pages: sign-in, the run list, a run's page, live updates over SSE, and the
operator buttons. Server-rendered (Jinja2, autoescaped); htmx and its SSE extension are
vendored under ``static/`` (no build step). Mutations go through ``Dashboard.act``, the same
engine operations the API uses, attributed to the session's token name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote, urlsplit

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sse_starlette.sse import EventSourceResponse

from phasegate.durations import format_duration
from phasegate.errors import PhasegateError
from phasegate.lanes import portfolio
from phasegate.masking import MASK
from phasegate.report.data import build
from phasegate.report.render import render
from phasegate.run.events import RunStarted
from phasegate.server.dashboard.hub import LIST_KEY, Hub
from phasegate.server.dashboard.runway import RUNWAY_KEY, runway_marker, runway_panel
from phasegate.server.dashboard.sessions import (
    COOKIE,
    ENDED_FILE,
    EndedSessions,
    Session,
    Sessions,
    load_key,
)
from phasegate.server.dashboard.streams import events, merged
from phasegate.server.dashboard.views import LOG_TAIL_BYTES, progress, run_view
from phasegate.store.contract import JournalStore

if TYPE_CHECKING:
    from phasegate.schedules.view import ScheduleRow

log = logging.getLogger("phasegate.dashboard")
HERE = Path(__file__).parent
STATIC = "/ui/static"
OPERATORS = ("operator", "admin")
EXECUTING = ("running", "rolling_back")
ACTIONS = (
    "approve",
    "reject",
    "promote",
    "promote_full",
    "abort",
    "rollback",
    "resume",
    "break_glass",
)
LIST_LIMIT = 50
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "promote": "Promote",
    "promote_full": "Promote full",
    "abort": "Abort",
    "rollback": "Roll back",
    "resume": "Resume",
    "break_glass": "Break glass: start now",
}

TokenCheck = Callable[[str], tuple[str, str] | None]  # a token -> (its name, its role)
Act = Callable[[str, str, Session, dict[str, str]], Awaitable[str]]  # -> message to show
Start = Callable[[Session, dict[str, str]], Awaitable[str]]  # a plan in the form -> run id
SetCap = Callable[[Session, str, dict[str, str]], Awaitable[str]]  # lane, form -> message


@dataclass
class Dashboard:
    state_dir: Path
    verify_token: TokenCheck
    act: Act
    start: Start | None = None  # starting runs from the dashboard (operators)
    set_cap: SetCap | None = None  # changing a lane's cap from the portfolio page (operators)
    key_dir: Path | None = None  # where the session key lives (default: <state>/server)
    interval: float = 0.5
    store_url: str | None = None  # the PostgreSQL journal, or None: SQLite in state_dir
    sessions: Sessions = field(init=False)
    hub: Hub = field(init=False)

    def __post_init__(self) -> None:
        key_dir = self.key_dir or self.state_dir / "server"
        self.sessions = Sessions(load_key(key_dir), ended=EndedSessions(key_dir / ENDED_FILE))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.env.filters["ts"] = _ts
        self.env.filters["duration"] = _duration
        self.hub = Hub(
            self.state_dir,
            self._fragment,
            self.interval,
            url=self.store_url,
            dear=lambda key: key.startswith(RUNWAY_KEY),
        )

    # -- fragments, built on the hub's store thread ------------------------------------------
    def _fragment(self, key: str, store: JournalStore) -> tuple[Any, Callable[[], str]]:
        if key == LIST_KEY:
            return (store.runs_marker(), int(time.time())), lambda: self.runs_table(store)
        if key.startswith(RUNWAY_KEY):
            run_id = key.removeprefix(RUNWAY_KEY)
            return runway_marker(store, run_id), lambda: self.runway_html(store, run_id)
        head = store.run_head(key)
        record = None if head is None else (head.last_seq, head.status)
        # An executing run's page changes without a journal entry too (the running step's
        # log grows): rebuilt every second while it runs or rolls back; a paused, waiting or
        # finished run's only when its journal moves (elapsed times and countdowns tick in
        # the browser, static/dashboard.js).
        live = record is not None and record[1] in EXECUTING
        marker = (tuple(record) if record else None, int(time.time()) if live else 0)
        return marker, lambda: self.run_body(store, key)

    def runway_html(self, store: JournalStore, run_id: str) -> str:
        panel = runway_panel(store, run_id)
        if panel is None:
            return ""
        return self.env.get_template("_runway.html").render(runway=panel)

    def runs_table(self, store: JournalStore) -> str:
        rows = []
        for record in store.list_runs(limit=LIST_LIMIT):
            phases = store.phase_statuses(record.id)
            done = sum(1 for s in phases if s in ("succeeded", "failed", "stopped"))
            at = record.summary.get("started_at")
            started = float(at) if isinstance(at, int | float) and at else record.created_at
            end = record.finished_at or time.time()
            rows.append(
                {
                    "id": record.id,
                    "plan": record.plan_name,
                    "status": record.status,
                    "progress": progress(done, len(phases)),
                    "started": started,
                    "duration": end - started,
                }
            )
        return self.env.get_template("_runs_table.html").render(rows=rows)

    def run_body(self, store: JournalStore, run_id: str) -> str:
        try:
            doc = build(store, run_id)
        except PhasegateError as exc:
            return f"<p class='failure'>{_escape(exc.message)}</p>"
        try:
            run = str(doc["run"]["id"])
            view = run_view(doc, lambda key: store.read_log(run, key, -LOG_TAIL_BYTES).text)
            return self.env.get_template("_run_body.html").render(
                v=view, labels=LABELS, secrets=secrets_needed(store, run), needs=NEEDS_SECRETS
            )
        except Exception:  # a page that cannot render says so; the live feed keeps going
            log.exception("the page of run %s could not be rendered", run_id)
            return "<p class='failure'>this run's page could not be rendered; see the log</p>"

    def page(self, name: str, session: Session | None, **context: Any) -> HTMLResponse:
        csrf = self.sessions.csrf_token(session) if session else ""
        html = self.env.get_template(name).render(
            static=STATIC, session=session, csrf=csrf, **context
        )
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    def session(self, request: Request) -> Session | None:
        return self.sessions.read(request.cookies.get(COOKIE))


def install(app: FastAPI, dashboard: Dashboard) -> None:
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="dashboard-static")
    app.include_router(make_router(dashboard))


def make_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)

    @router.get("")
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/runs", status_code=303)

    @router.get("/login")
    async def login_page(request: Request, next: str = "/ui/runs") -> HTMLResponse:
        return dash.page("login.html", None, next=_safe_next(next), flash=None)

    @router.post("/login", response_model=None)
    async def login(
        request: Request, token: str = Form(""), next: str = Form("/ui/runs")
    ) -> Response:
        found = dash.verify_token(token.strip()) if token.strip() else None
        if found is None:
            page = dash.page(
                "login.html",
                None,
                next=_safe_next(next),
                flash="That token is not valid.",
                flash_kind="error",
            )
            page.status_code = 401
            return page
        name, role = found
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            COOKIE,
            dash.sessions.issue(name, role),
            max_age=dash.sessions.max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/ui",
        )
        return response

    @router.post("/logout", response_model=None)
    async def logout(request: Request, csrf: str = Form("")) -> Response:
        session = dash.session(request)
        if session is not None and not _same_origin(request):
            return _refused("cross-site request")
        if session is not None and not dash.sessions.csrf_ok(session, csrf):
            return _refused("missing or invalid CSRF token")
        if session is not None:
            await anyio.to_thread.run_sync(dash.sessions.end, session)  # a file write
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    @router.get("/runs", response_model=None)
    async def runs(request: Request) -> Response:
        session = dash.session(request)
        if session is None:
            return to_login(request)
        table = await dash.hub.read(dash.runs_table)
        return dash.page(
            "runs.html",
            session,
            table=table,
            can_start=dash.start is not None and session.role in OPERATORS,
            flash=request.query_params.get("flash"),
            flash_kind=request.query_params.get("kind"),
        )

    @router.get("/schedules", response_model=None)
    async def schedules_page(request: Request) -> Response:
        session = dash.session(request)
        if session is None:
            return to_login(request)
        rows = await dash.hub.read(_schedules)
        return dash.page("schedules.html", session, schedules=rows)

    @router.get("/portfolio", response_model=None)
    async def portfolio_page(request: Request) -> Response:
        """Lanes: cap, running, queued, utilization, oldest wait, starving (any role)."""
        session = dash.session(request)
        if session is None:
            return to_login(request)
        now = time.time()
        lanes, tickets = await dash.hub.read(lambda store: (store.lanes(), store.lane_tickets()))
        queued = [
            {
                "run_id": t.run_id,
                "phase": t.phase,
                "lane": t.lane,
                "enqueued_at": t.enqueued_at,
                "waited": now - t.enqueued_at,
            }
            for t in tickets
            if not t.granted
        ]
        return dash.page(
            "portfolio.html",
            session,
            at=now,
            lanes=portfolio(lanes, tickets, now),
            queued=queued,
            can_set=dash.set_cap is not None and session.role in OPERATORS,
            flash=request.query_params.get("flash"),
            flash_kind=request.query_params.get("kind"),
        )

    @router.post("/lanes/{name}", response_model=None)
    async def set_lane_cap(request: Request, name: str) -> Response:
        """A lane's cap (and weight) from the portfolio page: operators and admins only, as
        ``PUT /api/v1/lanes/{name}``, recorded with the session's token name."""
        session = dash.session(request)
        form = await _check_mutation(dash, request, session, "change lane caps")
        if not isinstance(form, dict):
            return form
        assert session is not None
        if dash.set_cap is None:
            return _refused("this server does not change lanes", 404)
        try:
            message, kind = await dash.set_cap(session, name, form), "info"
        except PhasegateError as exc:
            message = exc.message + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")
            kind = "error"
        return RedirectResponse(f"/ui/portfolio?flash={quote(message)}&kind={kind}", 303)

    @router.post("/runs", response_model=None)
    async def start_run(request: Request) -> Response:
        session = dash.session(request)
        refused = await _check_mutation(dash, request, session)
        if not isinstance(refused, dict):
            return refused
        assert session is not None and dash.start is not None
        try:
            run_id = await dash.start(session, refused)
        except PhasegateError as exc:
            message = exc.message + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")
            return RedirectResponse(f"/ui/runs?flash={quote(message)}&kind=error", 303)
        return RedirectResponse(f"/ui/runs/{quote(run_id)}", status_code=303)

    @router.get("/runs/stream", response_model=None)
    async def runs_stream(request: Request) -> Response:
        if dash.session(request) is None:
            return Response("sign in first", status_code=401)
        return EventSourceResponse(events(dash.hub, dash.session, LIST_KEY, request), ping=15)

    @router.get("/runs/{run_id}", response_model=None)
    async def run_page(request: Request, run_id: str) -> Response:
        session = dash.session(request)
        if session is None:
            return to_login(request)
        body = await dash.hub.read(lambda store: dash.run_body(store, run_id))
        budget = await dash.hub.read(lambda store: dash.runway_html(store, run_id))
        return dash.page(
            "run.html",
            session,
            run_id=run_id,
            body=body,
            runway_html=budget,
            can_operate=session.role in OPERATORS,
            flash=request.query_params.get("flash"),
            flash_kind=request.query_params.get("kind"),
        )

    @router.get("/runs/{run_id}/report", response_model=None)
    async def run_report(request: Request, run_id: str) -> Response:
        """The run's HTML report, the same file `phasegate report RUN --format html` writes."""
        session = dash.session(request)
        if session is None:
            return to_login(request)
        try:
            html = await dash.hub.read(lambda store: render(build(store, run_id), "html"))
        except PhasegateError as exc:
            return _refused(exc.message, 404)
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    @router.get("/runs/{run_id}/plan", response_model=None)
    async def run_plan(request: Request, run_id: str) -> Response:
        """The plan source the run was started from and its variables, secrets masked (the
        journal only ever holds their mask)."""
        session = dash.session(request)
        if session is None:
            return to_login(request)
        try:
            found = await dash.hub.read(lambda store: _plan_of(store, run_id))
        except PhasegateError as exc:
            return _refused(exc.message, 404)
        return dash.page("plan.html", session, run_id=run_id, **found)

    @router.get("/runs/{run_id}/stream", response_model=None)
    async def run_stream(request: Request, run_id: str) -> Response:
        if dash.session(request) is None:
            return Response("sign in first", status_code=401)
        feeds = {"update": run_id}
        if request.query_params.get("runway") == "1":  # the page shows a runway panel
            feeds["runway"] = RUNWAY_KEY + run_id
        return EventSourceResponse(merged(dash.hub, dash.session, feeds, request), ping=15)

    @router.post("/runs/{run_id}/{action}", response_model=None)
    async def run_action(request: Request, run_id: str, action: str) -> Response:
        session = dash.session(request)
        form = await _check_mutation(dash, request, session, action)
        if not isinstance(form, dict):
            return form
        assert session is not None
        if action not in ACTIONS:
            return _refused(f"unknown action {action!r}", 404)
        try:
            message, kind = await dash.act(action, run_id, session, form), "info"
        except PhasegateError as exc:
            message, kind = exc.message, "error"
        target = f"/ui/runs/{quote(run_id)}?flash={quote(message)}&kind={kind}"
        return RedirectResponse(target, status_code=303)

    return router


async def _check_mutation(
    dash: Dashboard, request: Request, session: Session | None, what: str = "start"
) -> dict[str, str] | Response:
    """The form of an allowed mutation, or the refusal: signed in, same origin, a valid
    CSRF token, an operator."""
    if session is None:
        return _refused("sign in first", 401)
    if not _same_origin(request):
        return _refused("cross-site request")
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not dash.sessions.csrf_ok(session, form.get("csrf")):
        return _refused("missing or invalid CSRF token")
    if session.role not in OPERATORS:
        things = "" if what.endswith("caps") else " runs"
        return _refused(f"{session.role} tokens cannot {what}{things}")
    return form


class PlanVariable(TypedDict):
    name: str
    value: str  # the mask for a secret
    secret: bool


class PlanPage(TypedDict):
    """What the run's plan page shows: the plan source it started from, its variables."""

    plan_name: str
    plan_path: str
    plan_text: str
    variables: list[PlanVariable]


def _plan_of(store: JournalStore, run_id: str) -> PlanPage:
    record = store.get_run(run_id)
    started = next((d for _, _, e, d in store.events(record.id) if e == RunStarted.type), None)
    values = (RunStarted.model_validate(started).vars if started is not None else None) or {}
    secret = set(record.options.get("secret_overrides") or [])  # masked already; belt and braces
    variables: list[PlanVariable] = [
        {"name": k, "value": MASK if k in secret else str(v), "secret": k in secret or v == MASK}
        for k, v in values.items()
    ]
    return {
        "plan_name": record.plan_name,
        "plan_path": record.plan_path,
        "plan_text": record.plan_text,
        "variables": variables,
    }


def _schedules(store: JournalStore) -> list[ScheduleRow]:
    from phasegate.schedules.view import schedule_row

    now = time.time()
    return [schedule_row(store, record, now) for record in store.schedules()]


# The buttons whose action a worker carries out when no process executes the run: they
# need the run's secret variables again (server/aftercare.py ``secrets_given``).
NEEDS_SECRETS = ("abort", "rollback", "resume", "reject", "promote", "promote_full")


def secrets_needed(store: JournalStore, run_id: str) -> list[str]:
    """The names (never the values) of the secret variables the run was started with, when
    no live process executes it: an action then hands it to a worker, which needs them
    again; the action forms ask for them (password fields, POSTed, never shown back)."""
    record = store.get_run(run_id)
    names = [str(n) for n in record.options.get("secret_overrides") or []]
    owner = record.owner
    if not names or (owner is not None and owner.alive() is not False):
        return []
    return sorted(names)


def _same_origin(request: Request) -> bool:
    """A browser names where a form was posted from; it must be this server."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None  # no header at all: not a browser form; CSRF still applies
    host = request.headers.get("host", "")
    return urlsplit(source).netloc == host


def _safe_next(target: str) -> str:
    """Only a path inside the dashboard: never an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/"):
        return "/ui/runs"
    return target


def _refused(why: str, status: int = 403) -> Response:
    return Response(why, status_code=status, media_type="text/plain", headers=SECURITY_HEADERS)


def _duration(value: object) -> str:
    return format_duration(float(value)) if isinstance(value, int | float) else "-"


def _ts(value: float | None) -> str:
    if not value:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(value)))


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
