"""Shared fixtures: the real CLI in a subprocess, against a state directory in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import cli_forks

# The session's PostgreSQL (started on first use, stopped at the end): tests/store/pg_cluster.py.
pytest_plugins = ["tests.store.pg_cluster"]

# The local process harness (canary lab servers, ports, process trees) that tests and benches
# share lives in examples/, importable as `canary_lab`.
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@dataclass
class CLI:
    state_dir: Path
    cwd: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        env.update({"PHASEGATE_HOME": str(self.state_dir), "NO_COLOR": "1"})
        env.update(extra or {})
        return env

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        # Forked from a warm process (tests/cli_forks.py) unless it needs a fresh interpreter.
        return cli_forks.phasegate(
            list(args), cwd=self.cwd, env=self.env(env), timeout=timeout, input=input
        )

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "phasegate", *args],
            cwd=self.cwd,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def status(self, run: str = "last") -> dict[str, Any]:
        data: dict[str, Any] = self.json("status", run)
        return data


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CLI]:
    work = tmp_path / "work"
    work.mkdir()
    yield CLI(state_dir=tmp_path / "state", cwd=work)


def write_plan(directory: Path, text: str, name: str = "plan.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def items(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for phase in status["phases"]:
        for item in phase["items"]:
            found[item["key"]] = item
    if status.get("rollback"):
        for item in status["rollback"]["actions"] + status["rollback"]["verify"]:
            found[item["key"]] = item
    return found


@pytest.fixture
def tiny_state(tmp_path: Path) -> Iterator[Path]:
    """A 600 KiB tmpfs for full-disk tests (skipped where mounting needs root we lack)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
