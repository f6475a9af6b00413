"""One CLI identity for every verb (issue 10 §1.4): the real uid's login, never $USER or
$PHASEGATE_ACTOR, so `prevent_self_review` holds whatever the environment says."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests import cli_forks

LOGIN = pwd.getpwuid(os.getuid()).pw_name

PLAN = """
version: 1
name: four-eyes
phases:
  - id: p
    steps: [{run: "true"}]
    gates:
      - {manual: "go / no-go", id: go, prevent_self_review: true}
  - id: after
    needs: [p]
    steps: [{run: "touch deployed"}]
"""


def phasegate(
    tmp_path: Path, *args: str, user: str | None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PHASEGATE_") and k not in ("USER", "LOGNAME", "LNAME", "USERNAME")
    }
    env.update({"PHASEGATE_HOME": str(tmp_path / "state"), "NO_COLOR": "1"})
    if user is not None:
        env["USER"] = env["LOGNAME"] = user
    env.update(extra or {})
    return cli_forks.phasegate(list(args), cwd=tmp_path, env=env)


def start(tmp_path: Path, user: str | None, extra: dict[str, str] | None = None) -> None:
    (tmp_path / "plan.yaml").write_text(textwrap.dedent(PLAN))
    started = phasegate(tmp_path, "run", "plan.yaml", user=user, extra=extra)
    assert started.returncode == 4, started.stderr  # paused at the manual gate


def assert_refused(approve: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    assert approve.returncode == 2, approve.stdout + approve.stderr
    assert "cannot approve" in approve.stderr and "prevent_self_review" in approve.stderr
    assert "Traceback" not in approve.stderr
    status = phasegate(tmp_path, "status", "--json", user=None)
    gate = next(
        item
        for phase in json.loads(status.stdout)["phases"]
        for item in phase["items"]
        if item["key"] == "p/gate:go"
    )
    assert gate["status"] != "passed"
    resumed = phasegate(tmp_path, "resume", "last", user=None)
    assert resumed.returncode == 4  # still waiting for someone else
    assert not (tmp_path / "deployed").exists()


def test_self_approval_refused_with_user_unset(tmp_path: Path) -> None:
    start(tmp_path, user=None)
    assert_refused(phasegate(tmp_path, "approve", "last", user=None), tmp_path)


def test_self_approval_refused_with_user_changed_between_start_and_approve(
    tmp_path: Path,
) -> None:
    start(tmp_path, user="alice")
    assert_refused(phasegate(tmp_path, "approve", "last", user="bob"), tmp_path)


def test_self_approval_refused_when_user_set_only_at_approval(tmp_path: Path) -> None:
    start(tmp_path, user=None)
    assert_refused(phasegate(tmp_path, "approve", "last", user="someone-else"), tmp_path)


def test_phasegate_actor_cannot_make_a_second_person(tmp_path: Path) -> None:
    start(tmp_path, user="alice", extra={"PHASEGATE_ACTOR": "alice"})
    approve = phasegate(tmp_path, "approve", "last", user="bob", extra={"PHASEGATE_ACTOR": "bob"})
    assert "PHASEGATE_ACTOR is ignored" in approve.stderr
    assert_refused(approve, tmp_path)


@pytest.mark.parametrize("user", [None, "mallory"])
def test_every_verb_records_the_uid_login(tmp_path: Path, user: str | None) -> None:
    (tmp_path / "plan.yaml").write_text(
        textwrap.dedent(PLAN).replace(", prevent_self_review: true", "")
    )
    assert phasegate(tmp_path, "run", "plan.yaml", user=user).returncode == 4
    approve = phasegate(tmp_path, "approve", "last", user=user)
    assert approve.returncode == 0, approve.stderr
    assert f"as {LOGIN}@{socket.gethostname()}" in approve.stdout

    status = json.loads(phasegate(tmp_path, "status", "--json", user=user).stdout)
    assert status["run"]["user"] == LOGIN
    assert phasegate(tmp_path, "resume", "last", user=user).returncode == 0
    gate = next(
        i
        for p in json.loads(phasegate(tmp_path, "status", "--json", user=None).stdout)["phases"]
        for i in p["items"]
        if i["key"] == "p/gate:go"
    )
    assert gate["observed"]["approved_by"] == [f"{LOGIN}@{socket.gethostname()}"]
