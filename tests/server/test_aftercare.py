"""Requests a server's worker left unread when it exited (server/aftercare.py) are read as the
typed inputs the owner would have read (run/inputs.py): an approval is journalled with all
its fields (a decision's choice included), the rest become the jobs the API queues for a run
nobody executes, with their options; a malformed one is consumed, never acted on."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.run.events import ApprovalGranted
from phasegate.run.inputs import Abort, Approve, Promote, Reject, Rejection, Resume, to_request
from phasegate.server.aftercare import Job, job_for, leftover_jobs
from phasegate.store.contract import JournalStore
from phasegate.store.memory import MemoryStore
from phasegate.store.process import Owner
from tests.store.contract.script import advance, create


@pytest.fixture
def store(tmp_path: Path) -> JournalStore:
    found = MemoryStore(tmp_path)
    create(found, "r1")
    advance(found, "r1", 2)  # run.started, phase.started build: running
    found.release("r1", owner=Owner.me())  # its worker exited: nobody executes it
    return found


def test_each_leftover_request_is_read_as_its_input(store: JournalStore) -> None:
    approve = Approve(key="build/pick", by="token:ana", comment="go", var="COLOR", choice="blue")
    abort = Abort(by="token:bo", reason="stop", force=True, grace=3.0)
    promote = Promote(by="token:cy", full=True)
    reject = Reject(
        (
            Rejection(key="deploy/gate:a", by="token:di", comment="no", phase="deploy"),
            Rejection(key="deploy/gate:b", by="token:di", comment="no", phase="deploy"),
        )
    )
    for given in (approve, abort, promote, reject, Resume(by="token:ed")):
        store.add_request("r1", *to_request(given))
    store.add_request("r1", "approve", {"by": "token:ana"})  # no key: malformed

    jobs, approved_by = leftover_jobs(store, "r1")

    assert store.take_requests("r1") == []  # every one consumed, the malformed one too
    assert approved_by == "token:ana"
    granted = [
        ApprovalGranted.model_validate(e.data)
        for e in store.events("r1")
        if e.type == ApprovalGranted.type
    ]
    # journalled with every field the request had: the decision's option is not lost
    assert [(g.key, g.by, g.comment, g.var, g.choice) for g in granted] == [
        ("build/pick", "token:ana", "go", "COLOR", "blue")
    ]
    assert jobs == [
        Job("r1", "abort", "token:bo", {}, {"reason": "stop", "force": True, "grace": 3.0}),
        Job("r1", "promote", "token:cy", {}, {"full": True}),
        # several items rejected: every item waiting, as the API chose them
        Job("r1", "reject", "token:di", {}, {"check": None, "comment": "no"}),
        Job("r1", "resume", "token:ed", {}),
    ]
    # The API's job for a run nobody executes is the same job.
    assert [job_for("r1", given) for given in (abort, promote, reject)] == jobs[:3]


def test_an_approval_of_an_ended_item_left_unread_is_refused_not_journalled(
    store: JournalStore,
) -> None:
    advance(store, "r1", 2)  # build/compile started and succeeded
    store.release("r1", owner=Owner.me())
    before = len(store.events("r1"))
    store.add_request("r1", *to_request(Approve(key="build/compile", by="token:ana")))

    jobs, approved_by = leftover_jobs(store, "r1")

    assert (jobs, approved_by) == ([], None)
    assert len(store.events("r1")) == before
    assert store.take_requests("r1") == []
