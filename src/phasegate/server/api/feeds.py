"""Reading a run as it goes: its report (``GET …/report``) and its journal as a stream of
Server-Sent Events (``GET …/events/stream``), for viewers and up.

The stream sends each journal event once, in order, with the event's ``seq`` as the SSE
``id``; a client that reconnects sends ``Last-Event-ID`` (EventSource does this by itself) and
continues after it, so nothing is missed or repeated across reconnects. The journal is the
source: the stream reads one run's new rows (a cheap indexed read, on a worker thread), then
waits for the next change with ``wait_for_change`` (store/changes.py): woken by PostgreSQL's
NOTIFY the moment a write commits, by polling ``last_seq`` on SQLite; it never slows the
engine writing them. When the run has finished and everything is sent, a last
``end`` event says so and the stream closes (a client should not reconnect after it).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Literal
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sse_starlette.sse import EventSourceResponse

from phasegate.report.data import build
from phasegate.report.render import render
from phasegate.run.state import TERMINAL
from phasegate.server.api.deps import ThreadStores, store
from phasegate.server.auth import Identity, authenticate, require
from phasegate.server.errors import ERROR_RESPONSES, ApiError
from phasegate.store.changes import ChangeCursor
from phasegate.store.contract import JournalStore
from phasegate.store.records import StoredEvent

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=ERROR_RESPONSES)

viewer = Depends(require("viewer"))
the_store = Depends(store)

POLL = 0.25  # after run.finished: how long to wait for its last notifications
WAIT = 1.0  # the longest wait for a change before the client and its token are checked again
WAITERS = 256  # streams waiting at once (each waits on a thread)
REAUTH = 5.0  # a stream's token is checked again this often: revoking it ends the stream
BATCH = 500
MEDIA = {"json": "application/json", "md": "text/markdown; charset=utf-8", "html": "text/html"}


@router.get(
    "/{run_id}/report",
    response_class=Response,
    responses={
        200: {
            "description": "the report (as `phasegate report RUN --format …` writes it)",
            "content": {"application/json": {}, "text/markdown": {}, "text/html": {}},
        }
    },
)
def report(
    run_id: str,
    format: Literal["json", "md", "html"] = Query("json", description="json, md or html"),
    _: Identity = viewer,
    journal: JournalStore = the_store,
) -> Response:
    """The run's report fit for a change ticket: identity, phases, gates with expectations
    and observed values, decisions, rollback against its budget. Built from the journal,
    whose values were masked when written: no secret appears in it."""

    # Another run's report (a program's child, a child's parent) in the same format, here.
    def href(other: str) -> str:
        return f"../{quote(other, safe='')}/report?format={format}"

    text = render(build(journal, journal.get_run(run_id).id), format, href)
    return Response(text, media_type=MEDIA[format])


def _read(
    stores: ThreadStores, run_id: str, after: int
) -> tuple[list[StoredEvent], str, ChangeCursor]:
    journal = stores.get()  # on the calling worker thread: a connection belongs to its thread
    cursor = journal.change_cursor(run_id)  # before the read: a write after it wakes the wait
    rows = journal.events_after(run_id, after, BATCH)
    return rows, journal.get_run(run_id).status, cursor


def _wait(stores: ThreadStores, cursor: ChangeCursor, timeout: float) -> bool:
    return stores.get().wait_for_change(cursor, timeout)


async def _wait_for_change(request: Request, cursor: ChangeCursor, timeout: float) -> bool:
    # Waiting threads have a limiter of their own: a hundred open streams must not take
    # the threads every other route runs on.
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "stream_waiters", None)
    if limiter is None:
        limiter = state.stream_waiters = anyio.CapacityLimiter(WAITERS)
    return await anyio.to_thread.run_sync(
        _wait, state.stores, cursor, timeout, limiter=limiter, abandon_on_cancel=True
    )


def _last_event_id(header: str | None, after: int | None) -> int:
    if header is not None and header.strip():
        try:
            value = int(header.strip())
        except ValueError:
            raise ApiError(
                422,
                "invalid_request",
                f"Last-Event-ID {header[:40]!r} is not an event id this server sent",
                hint="send the id of the last event received, or omit the header",
            ) from None
        if value < 0:
            raise ApiError(422, "invalid_request", "Last-Event-ID must not be negative")
        return value
    return after or 0


@router.get(
    "/{run_id}/events/stream",
    response_class=Response,
    responses={
        200: {
            "description": "Server-Sent Events: `id` = the event's seq, `event` = its type, "
            "`data` = JSON {seq, ts, type, data}; a last `end` event when the run has finished",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream(
    request: Request,
    run_id: str,
    after: int | None = Query(
        None, ge=0, le=2**62, description="start after this seq (Last-Event-ID wins)"
    ),
    last_event_id: str | None = Header(None, max_length=40),
    _: Identity = viewer,
) -> Response:
    """The run's journal events as they are written (SSE), oldest first, resumable with
    ``Last-Event-ID``."""
    start = _last_event_id(last_event_id, after)
    stores = request.app.state.stores
    record_id = await anyio.to_thread.run_sync(lambda: stores.get().get_run(run_id).id)
    return EventSourceResponse(_events(request, record_id, start), ping=15)


async def _events(request: Request, run_id: str, after: int) -> AsyncIterator[dict[str, str]]:
    stores: ThreadStores = request.app.state.stores
    checked = time.monotonic()
    while True:
        rows, status, cursor = await anyio.to_thread.run_sync(_read, stores, run_id, after)
        for seq, ts, etype, data in rows:
            after = int(seq)
            payload = {"seq": after, "ts": ts, "type": etype, "data": data}
            yield {"id": str(after), "event": etype, "data": json.dumps(payload)}
        if len(rows) == BATCH:
            continue
        if status in TERMINAL:
            # The last notifications follow run.finished by a moment: one more read.
            await _wait_for_change(request, cursor, POLL)
            rows, _, _ = await anyio.to_thread.run_sync(_read, stores, run_id, after)
            if not rows:
                yield {"event": "end", "data": json.dumps({"status": status, "last_seq": after})}
                return
            continue
        if await request.is_disconnected():
            return
        if time.monotonic() - checked > REAUTH:
            checked = time.monotonic()
            identity = await anyio.to_thread.run_sync(lambda: authenticate(request))
            if identity is None or not identity.can("viewer"):
                return
        await _wait_for_change(request, cursor, WAIT)
