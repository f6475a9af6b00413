"""A Markdown document runs from the API only after a recorded review (issue 11 §13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.server.conftest import Api


def test_an_unreviewed_markdown_plan_path_is_refused_until_reviewed(
    api: Api, tmp_path: Path
) -> None:
    marker = tmp_path / "deployed"
    doc = tmp_path / "plans" / "DOC.md"
    doc.write_text(
        f"# Release\n\n## Phase 1: Deploy\n\n```bash\ntouch {marker}\n```\n", encoding="utf-8"
    )
    refused = api.post("/api/v1/runs", json={"plan_path": "DOC.md"})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "conflict" and "nobody has reviewed" in error["message"]
    assert "review DOC.md" in error["hint"]
    assert not marker.exists()

    reviewed = subprocess.run(
        [
            sys.executable,
            "-m",
            "phasegate",
            "--state-dir",
            str(tmp_path / "state"),
            "review",
            str(doc),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert reviewed.returncode == 0, reviewed.stderr
    started = api.post("/api/v1/runs", json={"plan_path": "DOC.md"})
    assert started.status_code in (200, 201, 202), started.text
    api.wait_status(started.json()["id"], "succeeded")
    assert marker.exists()
