"""Lanes over the API, the dashboard and /metrics (issue 14 §5), each endpoint with each role:
anyone reads the portfolio (viewer, operator, admin), only operators and admins set caps
(journalled with who; a viewer gets 403 and nothing changes); the portfolio's figures are the
same in the JSON, on the dashboard page and as Prometheus samples."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from tests.server.conftest import Api
from tests.server.test_errors import envelope

STORES = ("sqlite", "postgres")
ROLES = ("viewer", "alice", "admin")  # viewer, operator, admin


def _journal(api: Api) -> JournalStore:
    config = api.client.app.state.config  # type: ignore[attr-defined]
    return open_journal(config.state_dir, url=config.store_url)


def _runs_in_lane(store: JournalStore, lane: str, count: int, t0: float) -> list[str]:
    """Runs owned by this (live) process that ask for a slot of ``lane``."""
    ids = []
    for n in range(count):
        run_id = f"{lane}-{n}"
        store.create_run(
            run_id=run_id,
            plan_name=run_id,
            plan_path=f"/plans/{run_id}.yaml",
            plan_sha256="sha",
            plan_text="",
            lock_name=run_id,
            idempotency_key=None,
            options={},
            phases=["p"],
            owner=Owner.me(),
            ts=t0 + n,
        )
        store.lane_request(run_id, lane, ts=t0 + n)
        ids.append(run_id)
    return ids


@pytest.mark.parametrize("who", ROLES)
def test_setting_a_cap_needs_an_operator_and_records_who(api: Api, who: str) -> None:
    answer = api.client.put(
        "/api/v1/lanes/Code-API", json={"max": 4, "weight": 2}, headers=api.headers(who)
    )
    history = api.get("/api/v1/lanes/history", who=who)
    assert history.status_code == 200, history.text
    if who == "viewer":
        envelope(answer, 403, "forbidden")
        assert history.json() == []
        return
    assert answer.status_code == 200, answer.text
    change = answer.json()
    assert (change["lane"], change["cap"], change["weight"], change["previous_cap"]) == (
        "Code-API",
        4,
        2.0,
        None,
    )
    assert change["by"].endswith(who) or who in change["by"]
    lowered = api.client.put(
        "/api/v1/lanes/Code-API", json={"max": 1}, headers=api.headers(who)
    ).json()
    assert (lowered["cap"], lowered["previous_cap"], lowered["weight"]) == (1, 4, 2.0)
    assert [h["cap"] for h in api.get("/api/v1/lanes/history", who=who).json()] == [1, 4]


def test_bad_settings_answer_the_envelope_and_change_nothing(api: Api) -> None:
    put = api.client.put
    headers = api.headers("admin")
    envelope(
        put("/api/v1/lanes/bad%20name", json={"max": 1}, headers=headers), 422, "invalid_request"
    )
    envelope(put("/api/v1/lanes/api", json={"max": -1}, headers=headers), 422, "invalid_request")
    envelope(
        put("/api/v1/lanes/api", json={"max": 1, "weight": 0}, headers=headers),
        422,
        "invalid_request",
    )
    envelope(
        put("/api/v1/lanes/api", json={"max": 1, "cap": 2}, headers=headers), 422, "invalid_request"
    )
    envelope(put("/api/v1/lanes/api", json={"max": 1}), 401, "unauthorized")
    assert api.get("/api/v1/portfolio").json()["lanes"] == []


@pytest.mark.parametrize("who", ROLES)
def test_the_portfolio_is_the_same_in_json_on_the_page_and_in_metrics(api: Api, who: str) -> None:
    admin = api.headers("admin")
    api.client.put("/api/v1/lanes/*", json={"max": 3}, headers=admin)
    api.client.put("/api/v1/lanes/Code-API", json={"max": 2, "weight": 2}, headers=admin)
    api.client.put("/api/v1/lanes/Narrative", json={"max": 6}, headers=admin)
    store = _journal(api)
    t0 = time.time() - 400  # the queued ones have waited long enough to count as starving
    try:
        _runs_in_lane(store, "Code-API", 3, t0)  # 2 run, 1 waits (lane cap)
        _runs_in_lane(store, "Narrative", 2, t0 + 10)  # 1 runs, 1 waits (the pool's 3)
        doc = api.get("/api/v1/portfolio", who=who)
        assert doc.status_code == 200, doc.text
        body = doc.json()
        rows = {r["lane"]: r for r in body["lanes"]}
        assert list(rows) == ["*", "Code-API", "Narrative"]
        assert (rows["*"]["cap"], rows["*"]["running"], rows["*"]["queued"]) == (3, 3, 2)
        code = rows["Code-API"]
        assert (code["cap"], code["weight"], code["running"], code["queued"]) == (2, 2.0, 2, 1)
        assert code["utilization"] == 1.0 and code["starving"] is True
        assert code["oldest_wait"] == pytest.approx(time.time() - (t0 + 2), abs=30)
        narrative = rows["Narrative"]
        assert (narrative["running"], narrative["queued"]) == (1, 1)
        assert narrative["utilization"] == pytest.approx(1 / 6)
        assert [q["run_id"] for q in body["queued"]] == ["Code-API-2", "Narrative-1"]

        api.client.cookies.clear()
        signed = api.client.post(
            "/ui/login", data={"token": api.tokens[who], "next": "/ui/portfolio"}
        )
        assert signed.status_code in (200, 303), signed.text
        page = api.client.get("/ui/portfolio")
        assert page.status_code == 200
        html = page.text
        section = html.split('data-lane="Code-API"', 1)[1].split("</tr>", 1)[0]
        assert "<td>2</td>" in section and "100%" in section and "starving" in section
        assert "Code-API-2" in html and "Narrative-1" in html

        samples = {
            (s.name, s.labels.get("lane")): s.value
            for family in text_string_to_metric_families(api.client.get("/metrics").text)
            for s in family.samples
            if s.name.startswith("phasegate_lane_")
        }
        assert samples[("phasegate_lane_cap", "Code-API")] == 2
        assert samples[("phasegate_lane_running", "Code-API")] == 2
        assert samples[("phasegate_lane_queued", "Code-API")] == 1
        assert samples[("phasegate_lane_utilization", "Code-API")] == 1.0
        assert samples[("phasegate_lane_starving", "Code-API")] == 1
        assert samples[("phasegate_lane_running", "*")] == 3
        assert samples[("phasegate_lane_oldest_wait_seconds", "Narrative")] > 300
    finally:
        store.close()


def test_the_portfolio_page_needs_a_session(api: Api) -> None:
    api.client.cookies.clear()
    page = api.client.get("/ui/portfolio", follow_redirects=False)
    assert page.status_code in (302, 303, 307) and "/ui/login" in page.headers["location"]


def test_a_run_started_over_the_api_is_queued_then_runs(api: Api, tmp_path: Path) -> None:
    api.client.put("/api/v1/lanes/api", json={"max": 1}, headers=api.headers("admin"))
    gate = tmp_path / "go"
    first = f"""\
version: 1
name: first
lane: api
phases:
  - id: p
    steps:
      - run: 'for i in $(seq 2400); do [ -f {gate} ] && break; sleep 0.05; done; [ -f {gate} ]'
"""
    second = first.replace("name: first", "name: second")
    one = api.post("/api/v1/runs", json={"plan": first}).json()["id"]
    api.wait_status(one, "running")
    two = api.post("/api/v1/runs", json={"plan": second}).json()["id"]
    queued = api.wait_status(two, "queued")
    assert queued["queue"]["lane"] == "api"
    listed = api.get("/api/v1/runs", params={"status": "queued"}).json()["runs"]
    assert [r["id"] for r in listed] == [two]
    api.client.cookies.clear()
    signed = api.client.post("/ui/login", data={"token": api.tokens["viewer"], "next": "/ui/runs"})
    assert signed.status_code in (200, 303), signed.text
    page = api.client.get(f"/ui/runs/{two}").text
    assert 'data-lane="api"' in page and "Queued</strong> for lane api (cap 1" in page
    gate.touch()
    assert api.wait_status(one, "succeeded")["lane"]["lane"] == "api"
    assert api.wait_status(two, "succeeded")["lane"]["waited"] > 0


def _dashboard_form(api: Api, who: str) -> str:
    """Sign ``who`` in and return the portfolio page's CSRF token."""
    api.client.cookies.clear()
    signed = api.client.post("/ui/login", data={"token": api.tokens[who], "next": "/ui/portfolio"})
    assert signed.status_code in (200, 303), signed.text
    page = api.client.get("/ui/portfolio").text
    return page.split('name="phasegate-csrf" content="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("who", ROLES)
def test_the_portfolio_page_changes_a_cap_for_operators_only_recording_who(
    api: Api, who: str
) -> None:
    api.client.put("/api/v1/lanes/Code-API", json={"max": 4}, headers=api.headers("admin"))
    csrf = _dashboard_form(api, who)
    page = api.client.get("/ui/portfolio").text
    has_form = 'action="/ui/lanes/Code-API"' in page
    answer = api.client.post(
        "/ui/lanes/Code-API",
        data={"csrf": csrf, "max": "2", "weight": "3"},
        follow_redirects=False,
    )
    caps = [h["cap"] for h in api.get("/api/v1/lanes/history").json()]
    if who == "viewer":
        assert not has_form  # no form to fill, and a forged post is refused
        assert answer.status_code == 403 and "viewer tokens cannot change lane caps" in answer.text
        assert caps == [4]
        return
    assert has_form
    assert answer.status_code == 303, answer.text
    assert "flash=" in answer.headers["location"]
    latest = api.get("/api/v1/lanes/history").json()[0]
    assert (latest["cap"], latest["previous_cap"], latest["weight"]) == (2, 4, 3.0)
    assert who in latest["by"]
    shown = api.client.get(answer.headers["location"]).text
    assert "cap 4 -&gt; 2, weight 3" in shown or "cap 4 -> 2, weight 3" in shown
    # A bad value changes nothing and says why; a missing CSRF token is refused.
    bad = api.client.post("/ui/lanes/Code-API", data={"csrf": csrf, "max": "-1"})
    assert "a cap is 0 to" in bad.text
    forged = api.client.post("/ui/lanes/Code-API", data={"max": "9"}, follow_redirects=False)
    assert forged.status_code == 403
    assert [h["cap"] for h in api.get("/api/v1/lanes/history").json()] == [2, 4]
