"""Issue 10 §1.3 over HTTP against a real ``phasegate serve``: a dashboard session is checked
against the token store on every request. Revoking its token (``phasegate token revoke``)
ends it at the next request: pages redirect to sign-in, an approval with the old cookie and
CSRF token is refused and records nothing, and a token re-created under the same name (with
another role) does not revive it."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.server.conftest import Served, wait_for
from tests.server.test_serve import token

GATED = """\
version: 1
name: gated
phases:
  - id: p
    steps:
      - {name: s, run: 'true'}
    gates:
      - manual: "release manager says go"
        id: go
        approvers: 2
"""


def csrf_of(html: str) -> str:
    found = re.search(r'name="phasegate-csrf" content="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def run_doc(served: Served, secret: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{served.url}/api/v1/runs/{run_id}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def events_in(text: str) -> int:
    return text.count("event: update")


def test_revoking_a_token_ends_its_dashboard_session(served: Served) -> None:
    starter = token(served, "starter", "operator")
    otto = token(served, "otto", "operator")
    served.start()
    created = httpx.post(
        f"{served.url}/api/v1/runs",
        json={"plan": GATED},
        headers={"Authorization": f"Bearer {starter}"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    wait_for(lambda: run_doc(served, starter, run_id)["run"]["status"] == "paused", "a pause")

    with httpx.Client(base_url=served.url, timeout=30) as browser:
        signed_in = browser.post("/ui/login", data={"token": otto, "next": "/ui/runs"})
        assert signed_in.status_code == 303
        page = browser.get(f"/ui/runs/{run_id}")
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        origin = {"Origin": served.url}
        # While the token stands, the session approves (one of two approvals).
        approved = browser.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf}, headers=origin)
        assert approved.status_code == 303 and "kind=info" in approved.headers["location"]
        approvals = run_doc(served, starter, run_id)["approvals"]["p/gate:go"]
        assert approvals == ["token:otto"]

        # A live feed open before the revocation: one long request.
        with browser.stream("GET", f"/ui/runs/{run_id}/stream") as feed:
            assert feed.status_code == 200
            chunks = feed.iter_text()
            seen = ""
            while events_in(seen) < 1 or not seen.endswith(("\r\n\r\n", "\n\n")):
                seen += next(chunks)
            revoked = served.cli("token", "revoke", "otto")
            assert revoked.returncode == 0, revoked.stderr
            # Something changes on the page (the second approval resumes the run): the feed
            # of the revoked session ends instead of delivering it.
            last = httpx.post(
                f"{served.url}/api/v1/runs/{run_id}/approve",
                json={},
                headers={"Authorization": f"Bearer {starter}"},
                timeout=30,
            )
            assert last.status_code == 200, last.text
            after = ""
            for chunk in chunks:  # ends when the server ends the stream
                after += chunk
                assert events_in(after) == 0, "the revoked session still gets updates"

        for path in ("/ui/runs", f"/ui/runs/{run_id}"):
            gone = browser.get(path)
            assert gone.status_code == 303, path
            assert gone.headers["location"].startswith("/ui/login"), path
        assert browser.get(f"/ui/runs/{run_id}/stream").status_code == 401
        again = browser.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf}, headers=origin)
        assert again.status_code == 401, again.text
        # The same name again, now a viewer: the old session stays dead.
        token(served, "otto", "viewer")
        assert browser.get("/ui/runs").status_code == 303
        still = browser.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf}, headers=origin)
        assert still.status_code == 401

    doc = run_doc(served, starter, run_id)
    # Only the two approvals that were allowed: otto's before the revocation, the starter's.
    assert doc["approvals"]["p/gate:go"] == ["token:otto", "token:starter"]
