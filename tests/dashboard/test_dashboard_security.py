"""Who may see and do what in the dashboard, in-process (ASGI): sign-in, forged and expired
cookies, CSRF, cross-site posts, roles, open redirects, escaping."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from phasegate.server.dashboard.sessions import COOKIE, Sessions
from tests.dashboard.conftest import make_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def client(tmp_path: Path) -> httpx.AsyncClient:
    app, _ = make_app(tmp_path / "state")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ui.test")


async def sign_in(client: httpx.AsyncClient, token: str = "op-secret") -> None:
    response = await client.post("/ui/login", data={"token": token, "next": "/ui/runs"})
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "op-secret" not in cookie and "view-secret" not in cookie  # never the token itself


async def csrf_of(client: httpx.AsyncClient) -> str:
    page = await client.get("/ui/runs")
    marker = 'name="csrf" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def test_pages_need_a_session_and_a_bad_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/ui/runs")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/login")
    assert (await client.get("/ui/runs/stream")).status_code == 401
    for page_of_a_run in ("/ui/runs/r1/report", "/ui/runs/r1/plan"):
        found = await client.get(page_of_a_run)
        assert found.status_code == 303 and found.headers["location"].startswith("/ui/login")
    bad = await client.post("/ui/login", data={"token": "nope"})
    assert bad.status_code == 401 and "not valid" in bad.text
    await sign_in(client)
    page = await client.get("/ui/runs")
    assert page.status_code == 200 and "No runs yet" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for page_of_a_run in ("/ui/runs/nope/report", "/ui/runs/nope/plan"):
        missing = await client.get(page_of_a_run)
        assert missing.status_code == 404 and "nope" in missing.text
        assert "default-src 'self'" in missing.headers["content-security-policy"]


async def test_forged_tampered_and_expired_cookies_are_refused(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    forged = Sessions(b"not the server key").issue("mallory", "admin")
    client.cookies.set(COOKIE, forged, domain="ui.test", path="/ui")
    assert (await client.get("/ui/runs")).status_code == 303
    await sign_in(client)
    good = client.cookies.get(COOKIE, domain="ui.test", path="/ui")
    assert good is not None
    client.cookies.set(COOKIE, good[:-2] + "xx", domain="ui.test", path="/ui")
    assert (await client.get("/ui/runs")).status_code == 303
    key = (tmp_path / "state" / "server" / "session.key").read_bytes()
    expired = Sessions(key, max_age=1)
    old = expired.issue("alice", "operator")
    time.sleep(2.1)
    assert expired.read(old) is None  # the server's own signature, but too old


async def test_mutations_need_csrf_same_origin_and_an_operator(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client)
    csrf = await csrf_of(client)
    no_csrf = await client.post("/ui/runs/r1/abort", data={"reason": "x"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    cross = await client.post(
        "/ui/runs/r1/abort",
        data={"csrf": csrf, "reason": "x"},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403 and "cross-site" in cross.text
    wrong = await client.post("/ui/runs/r1/abort", data={"csrf": "forged", "reason": "x"})
    assert wrong.status_code == 403
    ok = await client.post(
        "/ui/runs/r1/approve", data={"csrf": csrf}, headers={"origin": "http://ui.test"}
    )
    assert ok.status_code == 303  # reached the action (which reports the unknown run)
    assert "flash=" in ok.headers["location"] and "kind=error" in ok.headers["location"]


async def test_viewers_read_but_cannot_act(client: httpx.AsyncClient) -> None:
    await sign_in(client, "view-secret")
    csrf = await csrf_of(client)
    response = await client.post("/ui/runs/r1/abort", data={"csrf": csrf})
    assert response.status_code == 403 and "viewer" in response.text


async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    for target in ("https://evil.example/", "//evil.example/ui/runs", "/api/v1/runs"):
        response = await client.post("/ui/login", data={"token": "op-secret", "next": target})
        assert response.headers["location"] == "/ui/runs", target


async def test_an_expired_session_cookie_is_refused_over_http(tmp_path: Path) -> None:
    app, dashboard = make_app(tmp_path / "state")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ui.test"
    ) as client:
        await sign_in(client)
        assert (await client.get("/ui/runs")).status_code == 200
        dashboard.sessions.max_age = 1  # the server's own cookie, now older than allowed
        time.sleep(2.1)
        response = await client.get("/ui/runs")
        assert response.status_code == 303 and "/ui/login" in response.headers["location"]
