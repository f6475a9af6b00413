"""Global options where users put them (issue 10 §2.8): `--state-dir` before or after every
verb and sub-verb, and the shipped systemd unit's own ExecStart line starts a server."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from phasegate.cli import VERBS
from tests import cli_forks
from tests.conftest import write_plan

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "phasegate.service"
PHASEGATE = Path(sys.executable).parent / "phasegate"
SUB_VERBS = {"token": ["create", "list", "revoke"], "notify": ["test"]}

PLAN = """
    version: 1
    name: where
    phases:
      - id: p
        steps: [{run: "echo ran >> ledger"}]
"""


def phasegate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env["NO_COLOR"] = "1"
    return cli_forks.phasegate(list(args), cwd=cwd, env=env)


@pytest.mark.parametrize(
    "verb",
    [[v] for v in VERBS if v not in SUB_VERBS]
    + [[group, sub] for group, subs in SUB_VERBS.items() for sub in subs],
    ids=" ".join,
)
def test_every_verb_accepts_state_dir_after_it(tmp_path: Path, verb: list[str]) -> None:
    done = phasegate(tmp_path, *verb, "--state-dir", str(tmp_path / "s"), "--help")
    assert done.returncode == 0, done.stderr
    assert "--state-dir" in done.stdout


def test_state_dir_after_the_verb_is_where_the_run_is_journaled(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, PLAN)
    after, before = tmp_path / "after", tmp_path / "before"
    assert phasegate(tmp_path, "run", str(plan), "--state-dir", str(after)).returncode == 0
    assert (after / "phasegate.db").exists()
    assert not (tmp_path / ".phasegate").exists()
    # before the verb, after it, and both (the one after the verb wins)
    for args in (
        ["--state-dir", str(after), "history", "--json"],
        ["history", "--json", "--state-dir", str(after)],
        ["--state-dir", str(before), "history", "--json", "--state-dir", str(after)],
    ):
        done = phasegate(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        assert [r["plan_name"] for r in json.loads(done.stdout)] == ["where"], args
    assert not before.exists()  # a read verb creates nothing
    status = phasegate(tmp_path, "status", "last", "--json", "--state-dir", str(after))
    assert json.loads(status.stdout)["run"]["status"] == "succeeded"


def test_state_dir_after_a_sub_verb(tmp_path: Path) -> None:
    state = tmp_path / "s"
    created = phasegate(
        tmp_path, "token", "create", "--name", "ci", "--role", "viewer", "--state-dir", str(state)
    )
    assert created.returncode == 0, created.stderr
    listed = phasegate(tmp_path, "--state-dir", str(state), "token", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["ci"]
    listed = phasegate(tmp_path, "token", "--state-dir", str(state), "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["ci"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exec_start(state: Path, port: int) -> list[str]:
    """The unit's own ExecStart, with the installed binary, a temporary state directory and a
    free port substituted; every other argument as shipped."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    service = parser["Service"]
    shipped_state = service["WorkingDirectory"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/phasegate")
    argv[0] = str(PHASEGATE)
    argv = [a.replace(shipped_state, str(state)) for a in argv]
    argv[argv.index("--port") + 1] = str(port)
    return argv


def test_the_systemd_units_exec_start_serves_healthz(tmp_path: Path) -> None:
    state = tmp_path / "var-lib-phasegate"
    state.mkdir()
    port = free_port()
    argv = exec_start(state, port)
    assert str(state) in argv and "serve" in argv
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    server = subprocess.Popen(
        argv, cwd=state, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert server.poll() is None, server.communicate()[1]
        assert answer is not None and answer.status_code == 200, answer
        assert (state / "phasegate.db").exists()  # the state dir of the unit, not ./.phasegate
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
