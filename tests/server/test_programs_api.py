"""GET /api/v1/programs/{run}/next: what `phasegate next RUN --json` says, for a viewer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests import cli_forks
from tests.conftest import CLI
from tests.programs.test_next import _seed_like
from tests.programs.test_next_windows import FREEZE_ONLY, _program
from tests.server.conftest import Api
from tests.server.test_errors import envelope


class _Cli:
    def __init__(self, cwd: Path, state: Path) -> None:
        self.cwd, self.state = cwd, state

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        env["PHASEGATE_HOME"] = str(self.state)
        return cli_forks.phasegate(list(args), cwd=self.cwd, env=env, timeout=300)


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


def test_next_names_a_closed_window_at_an_instant(api: Api, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cli = CLI(state_dir=tmp_path / "state", cwd=work)
    plan = _program(cli, "ready:\n  checks: [{command: test -f go.flag}]\n", FREEZE_ONLY)
    assert cli("run", str(plan)).returncode == 4
    run_id = api.get("/api/v1/runs?plan=program").json()["runs"][0]["id"]
    url = f"/api/v1/programs/{run_id}/next?blocked=true"
    data = api.get(url + "&at=2030-12-25T12:00:00Z").json()
    [entry] = data["blocked"]
    assert entry["phase"] == "cutover" and entry["window"]["rule"] == "deny[0]"
    assert entry["blockers"][1].startswith("window closed for high-risk changes (deny[0]")
    assert entry["window"]["next_open"] == "2030-12-27T00:00:00+00:00"
    assert "window" not in api.get(url + "&at=2030-12-02T10:00:00Z").json()["blocked"][0]
    envelope(api.get(url + "&at=2030-12-25T12:00:00"), 422, "invalid_request")
