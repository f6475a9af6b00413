"""A real run whose phase's estimated p90 finish falls after the open window closes waits for
the next window long enough (issue 13 §1): real `phasegate` subprocesses, real SQLite. The
wait names the p90 and the close; `plan --at` previews it; a break-glass approval starts the
phase anyway, journalled with who and why."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from tests.conftest import CLI, write_plan
from tests.windows.test_waiting_cli import _poll, _status_when


def test_a_phase_longer_than_the_open_window_waits_then_break_glass_starts_it(cli: CLI) -> None:
    # Open (UTC) from an hour ago to ~10 minutes from now, every day: 70 minutes. The phase's
    # hint says p90 30 minutes: it does not fit in the 10 left today, it fits tomorrow.
    now = datetime.now(UTC)
    closes = datetime.fromtimestamp(math.ceil((now.timestamp() + 600) / 60) * 60, UTC)
    opens = closes - timedelta(minutes=70)
    hours = f"{opens:%H:%M}-{closes:%H:%M}"
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: fits
        windows:
          timezone: UTC
          allow:
            - {{hours: "{hours}"}}
        phases:
          - id: deploy
            risk: low
            estimate: {{p50: 20m, p90: 30m}}
            steps:
              - {{id: push, run: "echo pushed > pushed"}}
        """,
    )
    at = now.isoformat()
    preview = cli.json("plan", str(plan), "--at", at)["windows_at"]["phases"][0]
    assert preview["waits"] and preview["p90"] == 1800.0
    assert "its p90 duration 30m00s would end" in preview["why"]
    tomorrow = opens + timedelta(days=1)
    assert preview["starts_at"] == tomorrow.isoformat()

    proc = cli.spawn("run", str(plan))
    try:
        doc = _poll("the run to wait", lambda: _status_when(cli, "waiting"))
        wait = doc["wait"]
        assert wait["phase"] == "deploy" and wait["admission"] is True
        assert "its p90 duration 30m00s would end" in wait["why"]
        assert f"after the window closes {closes:%a %Y-%m-%d %H:%M} UTC" in wait["why"]
        assert wait["next_open"] == tomorrow.timestamp()
        assert not (cli.cwd / "pushed").exists()
        run_id = doc["run"]["id"]
        done = cli("approve", run_id, "--break-glass", "--reason", "CAB ok: short in practice")
        assert done.returncode == 0, done.stderr
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "its p90 duration 30m00s" in err
    assert (cli.cwd / "pushed").read_text() == "pushed\n"
    final = cli.status(run_id)
    assert final["run"]["status"] == "succeeded"
    decision = final["decisions"][-1]
    assert decision["key"] == "window:deploy" and decision["comment"].startswith("CAB ok")
    assert [w["how"] for w in final["waits"]] == ["break_glass"]
    assert time.time() < closes.timestamp() + 60  # the test did not wait for any window
