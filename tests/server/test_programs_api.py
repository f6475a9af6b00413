"""GET /api/v1/programs/{run}/next: what `phasegate next RUN --json` says, for a viewer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.programs.test_next import _seed_like
from tests.server.conftest import Api
from tests.server.test_errors import envelope


class _Cli:
    def __init__(self, cwd: Path, state: Path) -> None:
        self.cwd, self.state = cwd, state

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        env["PHASEGATE_HOME"] = str(self.state)
        return subprocess.run(
            [sys.executable, "-m", "phasegate", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def test_next_over_the_api(api: Api, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cli = _Cli(work, tmp_path / "state")
    _seed_like(cli)  # type: ignore[arg-type]
    assert cli("run", str(work / "program.yaml")).returncode == 4  # shadow is not ready
    runs = api.get("/api/v1/runs?plan=program").json()["runs"]
    run_id = runs[0]["id"]
    answer = api.get(f"/api/v1/programs/{run_id}/next?blocked=true")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["run"] == run_id and data["actionable"] == []
    blocked = {e["phase"]: e["blockers"] for e in data["blocked"]}
    assert blocked["shadow"][0] == "verdict needs_decision"
    (work / "todos" / "shadow.yaml").write_text("dor: {status: pass, score: 9}\n")
    data = api.get(f"/api/v1/programs/{run_id}/next").json()
    assert [e["phase"] for e in data["actionable"]] == ["shadow"] and "blocked" not in data
    # The run's own document links its children.
    doc = api.get(f"/api/v1/runs/{run_id}").json()
    assert {c["phase"] for c in doc["program"]["children"]} == {"events", "tools"}
    envelope(api.get("/api/v1/programs/nope/next"), 404, "not_found")
    envelope(api.client.get(f"/api/v1/programs/{run_id}/next"), 401, "unauthorized")
