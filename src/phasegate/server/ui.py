"""The dashboard, wired to the server: sign-in checks the same token store as the API, and
every button calls the same operation as the matching API endpoint, as the session's token."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio.to_thread
from fastapi import FastAPI, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from phasegate.errors import PhasegateError, UsageError
from phasegate.server.api import runs
from phasegate.server.api.decisions import request_promote, request_reject
from phasegate.server.api.models import (
    AbortRequest,
    ApproveRequest,
    ResumeRequest,
    RollbackRequest,
    StartRequest,
)
from phasegate.server.auth import Identity
from phasegate.server.config import ServerConfig
from phasegate.server.dashboard.routes import Dashboard, install
from phasegate.server.dashboard.sessions import Session
from phasegate.server.errors import STATE_DIR_SHOWN, ApiError, without_state_path
from phasegate.server.tokens import TokenStore
from phasegate.server.workers import WorkerPool
from phasegate.store.contract import JournalStore
from phasegate.store.lanes import MAX_CAP


def mount_dashboard(app: FastAPI, config: ServerConfig) -> Dashboard:
    tokens: TokenStore = app.state.tokens
    pool: WorkerPool = app.state.pool

    def verify(token: str) -> tuple[str, str] | None:
        found = tokens.verify(token)
        return None if found is None else (found.name, found.role)

    async def act(action: str, run_id: str, session: Session, form: dict[str, str]) -> str:
        identity = Identity(session.name, session.role, via="session")

        def work() -> str:
            store = app.state.stores.get()
            given = secret_vars(store, run_id, form)
            if action == "approve":
                comment = form.get("comment", "")[:2000]
                approval = ApproveRequest(
                    check=form.get("check", "")[:500] or None,
                    comment=comment,
                    choose=form.get("choose", "")[:80] or None,
                )
                done = runs.approve(run_id, approval, identity, store, pool)
            elif action == "break_glass":
                # The reason is required: the API answers 422 without one.
                approval = ApproveRequest(comment=form.get("reason", "")[:2000], break_glass=True)
                done = runs.approve(run_id, approval, identity, store, pool)
            elif action == "abort":
                request = AbortRequest(reason=form.get("reason", "")[:2000], vars=given)
                done = runs.abort(run_id, request, identity, store, pool)
            elif action == "reject":
                comment = form.get("comment", "")[:2000]
                outcome = reject(run_id, comment, identity, store, pool, given)
                return f"reject: {outcome} (by {identity.actor})"
            elif action in ("promote", "promote_full"):
                full = action == "promote_full"
                outcome = promote(run_id, full, identity, store, pool, given)
                return f"{action.replace('_', ' ')}: {outcome} (by {identity.actor})"
            elif action == "rollback":
                done = runs.rollback(run_id, RollbackRequest(vars=given), identity, store, pool)
            else:
                done = runs.resume(run_id, ResumeRequest(vars=given), identity, store, pool)
            return f"{action}: {done.outcome} (by {identity.actor})"

        return await _for_the_page(work, config)

    async def start(session: Session, form: dict[str, str]) -> str:
        identity = Identity(session.name, session.role, via="session")
        try:
            body = StartRequest(
                plan=form.get("plan", "").strip() or None,
                plan_path=form.get("plan_path", "").strip() or None,
            )
        except ValidationError as exc:
            message = "; ".join(str(e["msg"]) for e in exc.errors())
            raise UsageError(message, hint="paste a plan, or name a plan file") from None

        def work() -> str:
            store = app.state.stores.get()
            done = runs.start_run(
                body, Response(), None, identity, store, pool, config, app.state.ledger
            )
            return done.id

        return await _for_the_page(work, config)

    async def set_cap(session: Session, name: str, form: dict[str, str]) -> str:
        """The portfolio page's cap form: the API's ``PUT /api/v1/lanes/{name}``."""
        identity = Identity(session.name, session.role, via="session")
        cap, weight = lane_form(form)

        def work() -> str:
            store = app.state.stores.get()
            change = store.set_lane(name, cap=cap, weight=weight, by=identity.actor, ts=time.time())
            return (
                f"lane {change.lane}: cap {change.previous_cap} -> {change.cap}, weight "
                f"{change.weight:g} (by {identity.actor})"
            )

        return await _for_the_page(work, config)

    dashboard = Dashboard(
        config.state_dir,
        verify,
        act,
        start=start,
        set_cap=set_cap,
        store_url=config.store_url,
    )
    # Every request's session is checked against the token store: revocation ends it.
    dashboard.sessions.check = tokens.session_role
    install(app, dashboard)
    app.add_api_route("/", _home, include_in_schema=False)
    return dashboard


def lane_form(form: dict[str, str]) -> tuple[int, float | None]:
    """The cap form's ``max`` (0 to MAX_CAP) and ``weight`` (empty: keep; else above 0)."""
    try:
        cap = int(form.get("max", "").strip())
        given = form.get("weight", "").strip()
        weight = float(given) if given else None
    except ValueError:
        raise UsageError(
            "a cap is a whole number and a weight a number",
            hint="e.g. max 4, weight 2 (leave weight empty to keep it)",
        ) from None
    if not 0 <= cap <= MAX_CAP or (weight is not None and not weight > 0):
        raise UsageError(f"a cap is 0 to {MAX_CAP:,} and a weight more than 0")
    return cap, weight


def secret_vars(store: JournalStore, run_id: str, form: dict[str, str]) -> dict[str, str]:
    """The secret values an action form carries (``secret:NAME`` password fields, shown only
    to operators and admins: dashboard/routes.py ``secrets_needed``), for the variables the
    run was started with as secrets, and only those: a form cannot change any other
    variable of the run. Empty fields are left out (the action is then refused naming the
    secret, as the API refuses it). The values go to the worker as the API's ``vars`` do
    (its stdin), never into the journal, a page, a log or a process's command line."""
    names = set(store.get_run(run_id).options.get("secret_overrides") or [])
    given = {}
    for key, value in form.items():
        name = key.removeprefix("secret:")
        if key.startswith("secret:") and name in names and value:
            given[name] = value
    return given


def promote(
    run_id: str,
    full: bool,
    identity: Identity,
    store: JournalStore,
    pool: WorkerPool,
    given: dict[str, str] | None = None,
) -> str:
    """The dashboard's Promote / Promote full: the API's ``POST …/promote``."""
    return request_promote(run_id, full, identity.actor, store, pool, given or {})


def reject(
    run_id: str,
    comment: str,
    identity: Identity,
    store: JournalStore,
    pool: WorkerPool,
    given: dict[str, str] | None = None,
) -> str:
    """The dashboard's Reject: the API's ``POST …/reject`` (a no-go: the waiting item fails
    and the run rolls back, recorded with who and why)."""
    if not comment.strip():
        raise UsageError("say why you reject", hint="write the reason in the comment field")
    return request_reject(run_id, None, comment, identity.actor, store, pool, given or {})[1]


async def _for_the_page(work: Callable[[], str], config: ServerConfig) -> str:
    """Run a button's work; an error becomes the ``PhasegateError`` the page shows as its
    flash message: an API error (a plan refused by the sandbox, a plan_path outside the
    root) with its first problems located, and never the server's state directory."""
    try:
        return await anyio.to_thread.run_sync(work)
    except ApiError as exc:
        error = without_state_path(exc, config.state_dir)
        where = [
            f"{d.get('file')}:{d.get('line')}:{d.get('column')}: {d.get('message')}"
            if d.get("line")
            else str(d.get("message", ""))
            for d in error.body.details[:3]
        ]
        message = error.body.message + ("".join(f"; {w}" for w in where) if where else "")
        raise UsageError(message, hint=error.body.hint) from None
    except PhasegateError as exc:
        shown = str(config.state_dir)
        exc.message = exc.message.replace(shown, STATE_DIR_SHOWN)
        exc.hint = exc.hint.replace(shown, STATE_DIR_SHOWN) if exc.hint else exc.hint
        raise


async def _home() -> RedirectResponse:
    return RedirectResponse("/ui/runs", status_code=303)
