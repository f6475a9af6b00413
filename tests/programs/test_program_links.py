"""Parent <-> child links on the dashboard and in the report, fetched from a real uvicorn over
a state directory real `phasegate` processes wrote: a program's run page lists its children
(links to their run pages, their status), a child's page links to its parent; the report
served by the dashboard links the same runs' reports. One screenshot in real Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from phasegate.server.app import create_app
from phasegate.server.config import ServerConfig
from tests.dashboard import conftest as dashboard
from tests.dashboard.conftest import ARTIFACTS, Served, run_to_end
from tests.programs.builders import program
from tests.server.conftest import TestClient, make_tokens

served = dashboard.served  # the dashboard on a real uvicorn (tests/dashboard/conftest.py)
CHROMIUM = Path("/usr/bin/chromium")


class _Links(HTMLParser):
    """Every <a>: its href and data-* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append({k: v or "" for k, v in attrs})


def links(html: str, attribute: str) -> dict[str, str]:
    parser = _Links()
    parser.feed(html)
    return {a[attribute]: a["href"] for a in parser.links if attribute in a}


def _run_program(served: Served, tmp_path: Path, failing: int | None = None) -> dict[str, Any]:
    work = tmp_path / "work"
    work.mkdir()
    plan = program(work, children=3, failing=failing)
    return run_to_end(served.state, work, str(plan), code=0 if failing is None else 1)


def _sign_in(client: httpx.Client) -> None:
    signed = client.post("/ui/login", data={"token": "view-secret", "next": "/ui/runs"})
    assert signed.status_code == 303, signed.text


def test_program_page_links_children_and_child_page_links_parent(
    served: Served, tmp_path: Path
) -> None:
    status = _run_program(served, tmp_path, failing=3)
    parent = status["run"]["id"]
    children = {c["phase"]: c for c in status["program"]["children"]}
    assert list(children) == ["c1", "c2", "c3"]
    with httpx.Client(base_url=served.url, timeout=30) as client:
        _sign_in(client)
        page = client.get(f"/ui/runs/{parent}")
        assert page.status_code == 200
        child_links = links(page.text, "data-child-run")
        # In the program's order, each to its own run page.
        assert list(child_links) == [children[p]["run"] for p in ("c1", "c2", "c3")]
        for run_id, href in child_links.items():
            assert href == f"/ui/runs/{run_id}"
        # Each row shows the child's status now (from its own journal): the failed child
        # rolled itself back, the program rolled back the two before it.
        rows = re.findall(r'data-child-phase="(c\d)".*?data-status="([a-z_]+)"', page.text, re.S)
        assert rows == [("c1", "rolled_back"), ("c2", "rolled_back"), ("c3", "rolled_back")]

        for phase, child in children.items():
            child_page = client.get(child_links[child["run"]])
            assert child_page.status_code == 200
            assert links(child_page.text, "data-parent-run") == {parent: f"/ui/runs/{parent}"}
            assert f"phase <code>{phase}</code>" in child_page.text
            assert links(child_page.text, "data-child-run") == {}

        # The report the dashboard serves links the same runs' reports, relative to itself.
        report_url = f"/ui/runs/{parent}/report"
        report = client.get(report_url)
        assert report.status_code == 200
        hrefs = links(report.text, "data-child-run")
        assert list(hrefs) == list(child_links)
        for run_id, href in hrefs.items():
            target = urljoin(f"{served.url}{report_url}", href)
            assert target == f"{served.url}/ui/runs/{run_id}/report"
            child_report = client.get(target)
            assert child_report.status_code == 200
            back = links(child_report.text, "data-parent-run")
            assert urljoin(target, back[parent]) == f"{served.url}/ui/runs/{parent}/report"

    # The API's report links the other runs' reports in the same format, through the API.
    plans = tmp_path / "plans"
    plans.mkdir()
    viewer = make_tokens(served.state)["viewer"]
    app = create_app(ServerConfig(state_dir=served.state, plan_root=plans, workers=1))
    with TestClient(app, headers={"Authorization": f"Bearer {viewer}"}) as api:
        for fmt in ("html", "md"):
            api_url = f"http://testserver/api/v1/runs/{parent}/report?format={fmt}"
            got = api.get(api_url)
            assert got.status_code == 200, got.text
            if fmt == "html":
                hrefs = links(got.text, "data-child-run")
            else:
                found = re.findall(r"\]\((\.\./([^/)]+)/report\?format=md)\)", got.text)
                hrefs = {run: href for href, run in found if run != parent}
            assert list(hrefs) == list(child_links), got.text[:2000]
            for run_id, href in hrefs.items():
                target = urljoin(api_url, href)
                assert target == f"http://testserver/api/v1/runs/{run_id}/report?format={fmt}"
                child = api.get(target)
                assert child.status_code == 200
                kind = "text/html" if fmt == "html" else "text/markdown"
                assert child.headers["content-type"].startswith(kind)


def test_program_page_screenshot(served: Served, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-deps.sh does)")
    from playwright.sync_api import sync_playwright

    status = _run_program(served, tmp_path)
    parent = status["run"]["id"]
    first = status["program"]["children"][0]["run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{served.url}/ui/login")
            page.fill("input[name=token]", "view-secret")
            page.click("button[type=submit]")
            page.wait_for_url(f"{served.url}/ui/runs")
            page.goto(f"{served.url}/ui/runs/{parent}")
            assert page.locator("table.children tr[data-child-phase]").count() == 3
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "program-children.png"), full_page=True)
            # Clicking a child goes to its page, which links back.
            page.click(f"a[data-child-run='{first}']")
            page.wait_for_url(f"{served.url}/ui/runs/{first}")
            assert page.locator(f"a[data-parent-run='{parent}']").count() == 1
        finally:
            browser.close()
