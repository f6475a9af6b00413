"""The dashboard's run page shows a sampled fleet phase as the report does: one row per
stratum (hosts, picked, succeeded, failed, fail rate), each projection with its interval and
budget, the risk score against its bound. Real run (local executor), real uvicorn, a viewer."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.dashboard import conftest as dashboard
from tests.dashboard.conftest import ARTIFACTS, Served, run_to_end
from tests.fleet.test_fleet_projection import write

served = dashboard.served  # the dashboard on a real uvicorn (tests/dashboard/conftest.py)


def _run(served: Served, tmp_path: Path) -> str:
    work = tmp_path / "work"
    work.mkdir()
    write(work, limit=3500, risk=True)
    return str(run_to_end(served.state, work, "plan.yaml", "--no-output")["run"]["id"])


def test_the_run_page_shows_each_stratum_and_the_projection(served: Served, tmp_path: Path) -> None:
    run_id = _run(served, tmp_path)
    with httpx.Client(base_url=served.url, timeout=30) as client:
        signed = client.post("/ui/login", data={"token": "view-secret", "next": "/ui/runs"})
        assert signed.status_code == 303, signed.text
        page = client.get(f"/ui/runs/{run_id}")
    assert page.status_code == 200
    section = re.search(r'<section class="fleet-strata">.*?</section>', page.text, re.S)
    assert section is not None, "no fleet sample section on the run page"
    text = section.group(0)
    assert "sample for 20 hosts" in text
    # No stratum failed: risk 0 within its bound 0.2.
    assert re.search(r'class="badge succeeded">risk 0 \(max 0\.2\)', text)
    rows = re.findall(r"<tr><td>(az=\w)</td>((?:<td>[^<]*</td>){5})</tr>", text)
    cells = [(s, re.findall(r"<td>([^<]*)</td>", r)) for s, r in rows]
    assert cells == [
        ("az=a", ["10", "2", "2", "0", "0.00"]),
        ("az=b", ["10", "2", "2", "0", "0.00"]),
    ]
    assert "projected <code>tokens</code>: 3000 (90 % interval 3000 to 3000, from 4 hosts)" in text
    assert "budget 3500 (p50)" in text


def test_the_fleet_sample_in_chromium(served: Served, tmp_path: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-deps.sh does)")
    from playwright.sync_api import sync_playwright

    run_id = _run(served, tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{served.url}/ui/login")
            page.fill("input[name=token]", "view-secret")
            page.click("button[type=submit]")
            page.wait_for_url(f"{served.url}/ui/runs")
            page.goto(f"{served.url}/ui/runs/{run_id}")
            table = page.locator("section.fleet-strata table.strata")
            assert table.locator("tbody tr").count() == 2
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            # the page, not the section: the live view re-renders the section when its
            # stream connects, and a screenshot of a replaced element fails ("not attached")
            page.screenshot(path=str(ARTIFACTS / "fleet-strata.png"), full_page=True)
            assert table.locator("tbody tr").count() == 2
        finally:
            browser.close()
