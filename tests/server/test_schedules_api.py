"""Schedules over the API and the dashboard (issue 13 §2): every role that can read runs reads
schedules — rule, next slot, last slot with its run, streak — exactly as `schedule list` and
`schedule history` print them; without a token nothing; an unknown name is a 404 envelope."""

from __future__ import annotations

import time
from pathlib import Path

from phasegate.schedules.spec import build_spec
from phasegate.store.schedules import ScheduleRecord
from phasegate.store.sqlite import SqliteStore
from tests.server.conftest import Api, plan_text

STORES = ("sqlite",)


def _seed(tmp_path: Path) -> int:
    """A nightly schedule with two claimed slots: an old fired one (its run gone) and the
    newest skipped one. Returns the newest slot."""
    plan = tmp_path / "plans" / "nightly.yaml"
    plan.write_text(plan_text("nightly"))
    spec = build_spec(
        name="nightly",
        plan=str(plan),
        cron=None,
        every=None,
        calendar="daily 02:00",
        timezone="Europe/Berlin",
        variables={},
        missed="skip",
    )
    store = SqliteStore(tmp_path / "state")
    try:
        assert store.add_schedule(ScheduleRecord("nightly", spec, time.time(), "ops"))
        old, new = 1_764_982_800, 1_765_069_200  # two 02:00 slots in Berlin, a day apart
        assert store.claim_slot("nightly", old, by="host:1", ts=old + 1)
        store.record_slot("nightly", old, outcome="fired", run_id="20251205-010000-aaaaaa")
        assert store.claim_slot("nightly", new, by="host:2", ts=new + 1)
        store.record_slot("nightly", new, outcome="skipped", note="the plan's lock was held")
    finally:
        store.close()
    return new


def test_every_role_reads_schedules_and_nobody_without_a_token(api: Api, tmp_path: Path) -> None:
    newest = _seed(tmp_path)
    for who in ("viewer", "alice", "admin"):
        got = api.get("/api/v1/schedules", who=who)
        assert got.status_code == 200, (who, got.text)
        (row,) = got.json()
        assert row["name"] == "nightly" and row["timezone"] == "Europe/Berlin"
        assert row["plan"].endswith("nightly.yaml")
        assert "T02:00:00+01:00" in row["next"] or "T02:00:00+02:00" in row["next"]
        assert row["last"]["slot"] == newest and row["last"]["outcome"] == "skipped"
        assert row["last"]["note"] == "the plan's lock was held"
        assert row["created_by"] == "ops"
    assert api.client.get("/api/v1/schedules").status_code == 401
    bad = api.client.get("/api/v1/schedules", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_a_schedules_history_lists_slots_newest_first_with_their_runs(
    api: Api, tmp_path: Path
) -> None:
    newest = _seed(tmp_path)
    got = api.get("/api/v1/schedules/nightly", who="viewer")
    assert got.status_code == 200, got.text
    data = got.json()
    assert [s["slot"] for s in data["slots"]] == [newest, newest - 86_400]
    assert [s["outcome"] for s in data["slots"]] == ["skipped", "fired"]
    assert data["slots"][1]["run_id"] == "20251205-010000-aaaaaa"
    assert data["slots"][1]["status"] == "gone"  # the run is not in this store
    assert data["slots"][0]["at"] == "2025-12-07T02:00:00+01:00"  # local time, Berlin
    assert data["streak"] == 0  # no passing run yet
    limited = api.get("/api/v1/schedules/nightly?limit=1").json()
    assert [s["slot"] for s in limited["slots"]] == [newest]
    missing = api.get("/api/v1/schedules/weekly")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.client.get("/api/v1/schedules/nightly").status_code == 401


def test_the_dashboard_lists_schedules_for_a_signed_in_viewer(api: Api, tmp_path: Path) -> None:
    _seed(tmp_path)
    anonymous = api.client.get("/ui/schedules", follow_redirects=False)
    assert anonymous.status_code == 303 and "/ui/login" in anonymous.headers["location"]
    signed = api.client.post(
        "/ui/login",
        data={"token": api.tokens["viewer"], "next": "/ui/schedules"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = api.client.get("/ui/schedules")
    assert page.status_code == 200
    assert 'data-schedule="nightly"' in page.text
    assert "daily at 02:00" in page.text or "02:00" in page.text
    assert "skipped" in page.text
