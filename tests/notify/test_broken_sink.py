"""A broken notification sink never fails or stalls a run (issue 12 §5, dramatiq's rule for
after-hooks: a broken one is logged, never fatal).

The notifiers here are a real third-party plugin: a module and its distribution metadata
(``entry_points.txt`` in the ``phasegate.notifiers`` group) on ``PYTHONPATH``, found by
``importlib.metadata`` exactly as an installed package would be. Each is broken its own way:
``send`` raises an unexpected exception, ``send`` never answers, and preparing the channel for
the run (``expanded``) raises.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from phasegate.store.sqlite import SqliteStore
from tests.conftest import CLI, write_plan

PLUGIN = """
import asyncio
from typing import ClassVar

from phasegate.notify.base import Message, Notifier, Receipt


class Raising(Notifier):
    kind: ClassVar[str] = "raising"

    async def send(self, message: Message, timeout: float) -> Receipt:
        raise RuntimeError("bug in a notifier plugin")


class Hanging(Notifier):
    kind: ClassVar[str] = "hanging"

    async def send(self, message: Message, timeout: float) -> Receipt:
        await asyncio.sleep(3600)  # a receiver that never answers
        return Receipt()


class BadExpand(Notifier):
    kind: ClassVar[str] = "badexpand"

    def expanded(self, expand):  # type: ignore[no-untyped-def]
        raise KeyError("plugin bug while preparing the channel")

    async def send(self, message: Message, timeout: float) -> Receipt:
        return Receipt()
"""

ENTRY_POINTS = """\
[phasegate.notifiers]
raising = broken_sinks:Raising
hanging = broken_sinks:Hanging
badexpand = broken_sinks:BadExpand
"""

PLAN = """\
version: 1
name: sinks
phases:
  - id: deploy
    steps:
      - {name: ship, run: "echo shipped >> ledger.txt"}
    gates:
      - {id: ok, command: "true"}
notify:
  channels:
    crash: {raising: {}}
    stall: {hanging: {}}
    prepare: {badexpand: {}}
  routes:
    - {events: ["*"], channels: [crash, stall, prepare]}
  retries: 1
  backoff: 10ms
  timeout: 300ms
"""


def _install_plugin(root: Path) -> dict[str, str]:
    """The plugin as an installed distribution: a module plus its .dist-info on PYTHONPATH."""
    root.mkdir()
    (root / "broken_sinks.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "broken_sinks-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-sinks\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return {"PYTHONPATH": str(root)}


def _events(cli: CLI) -> list[tuple[str, dict[str, Any]]]:
    store = SqliteStore(cli.state_dir)
    try:
        [run_id] = store.run_ids()
        return [(etype, data) for _, _, etype, data in store.events(run_id)]
    finally:
        store.close()


def test_broken_notifiers_neither_fail_nor_stall_a_run(cli: CLI, tmp_path: Path) -> None:
    env = _install_plugin(tmp_path / "plugin")
    plan = write_plan(cli.cwd, PLAN)

    # The CLI call's own limit is the stall guard: a sink that held the run would hit it.
    result = cli("run", str(plan), env=env, timeout=90)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert cli.status()["run"]["status"] == "succeeded"
    # The step ran once: a sink's failure never makes the engine retry or roll back work.
    assert (cli.cwd / "ledger.txt").read_text() == "shipped\n"

    events = _events(cli)
    failed = [d for t, d in events if t == "notification.failed"]
    assert not [d for t, d in events if t == "notification.sent"]
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for data in failed:
        by_channel.setdefault(data["channel"], []).append(data)
    assert set(by_channel) == {"crash", "stall", "prepare"}
    # Every event routed to a channel is recorded as a failed delivery of that channel.
    assert {d["event"] for d in by_channel["crash"]} >= {"run.started", "run.succeeded"}
    assert {d["event"] for d in by_channel["crash"]} == {d["event"] for d in by_channel["stall"]}
    assert {d["event"] for d in by_channel["prepare"]} == {d["event"] for d in by_channel["crash"]}
    # Each failure says what went wrong, after the configured attempts (1 + retries).
    assert all(
        d["error"] == "RuntimeError: bug in a notifier plugin" and d["attempts"] == 2
        for d in by_channel["crash"]
    )
    assert all(
        d["error"] == "no answer within 0.3s" and d["attempts"] == 2 for d in by_channel["stall"]
    )
    assert all(
        d["attempts"] == 0 and "plugin bug while preparing the channel" in d["error"]
        for d in by_channel["prepare"]
    )
    # The run's own record is whole: the journal passes `phasegate check`.
    check = cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
