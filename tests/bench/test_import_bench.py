"""The benchmark's Markdown import workload runs (its timings are reported, never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import shared

ROOT = Path(__file__).resolve().parents[2]


def test_import_workload_runs_on_two_documents() -> None:
    assert (shared.SHARED / "seeds").is_dir(), f"no shared documents at {shared.SHARED}"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--only",
            "import",
            "--import-reps",
            "1",
            "--import-docs",
            "2",
        ],
        cwd=ROOT,
        env={**os.environ, "PHASEGATE_SHARED_DIR": str(shared.SHARED)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "markdown import, largest document" in result.stdout
    assert "phasegate import (subprocess)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == 2, result.stdout
