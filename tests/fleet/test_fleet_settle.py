"""Settling a dead controller's host items on resume (engine/fleet.py ``_settle``): each host's
records are asked for in one read however many of its items are unsettled, a supervisor still
running is re-read alone, and each record decides its item (succeeded with the outputs read in
the same round trip, failed, never started, unknown). The hosts are a scripted ``Fleet``: what
is tested is which reads the engine makes and what it journals from the answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from phasegate.engine.fleet import _settle
from phasegate.engine.fleet_hosts import Fleet
from phasegate.executors.ssh import RemoteRecord
from phasegate.executors.supervisor import StatusRecord
from phasegate.fleet.spec import Targets
from phasegate.masking import Masker
from phasegate.run.state import Item


@dataclass
class ScriptedFleet(Fleet):
    """Answers per (key, attempt), in turn: each read takes the next answer of each item."""

    answers: dict[tuple[str, int], list[RemoteRecord]] = field(default_factory=dict)
    reads: list[tuple[str, list[str]]] = field(default_factory=list)

    async def read_records(
        self, runner: Any, name: str, labels: Any, attempts: list[tuple[str, int]]
    ) -> dict[tuple[str, int], RemoteRecord]:
        self.reads.append((name, sorted(key for key, _ in attempts)))
        await asyncio.sleep(0)
        return {
            a: self.answers[a].pop(0) if len(self.answers[a]) > 1 else self.answers[a][0]
            for a in attempts
        }


def item(key: str, attempt: int = 1, kind: str = "step") -> Item:
    return Item(
        key=key,
        kind=kind,
        phase="deploy",
        name=key,
        status="running",
        attempt=attempt,
        started_at=0.0,
    )


def test_one_read_per_host_and_each_record_decides_its_item() -> None:
    items = {
        "deploy/a@web1": item("deploy/a@web1"),
        "deploy/b@web1": item("deploy/b@web1", attempt=2),
        "deploy/a@web2": item("deploy/a@web2"),
        "deploy/b@web2": item("deploy/b@web2"),
        "deploy/a@web3": item("deploy/a@web3"),
        "deploy/a@web4": Item(
            key="deploy/a@web4", kind="step", phase="deploy", name="x", status="succeeded"
        ),  # settled already: never read
        "other/a@web1": item("other/a@web1"),  # another phase's
    }
    done = StatusRecord(status=0, ended_at=1.0)
    fleet = ScriptedFleet(Targets(hosts=["web1"], executor="local"), "/")
    fleet.answers = {
        ("deploy/a@web1", 1): [RemoteRecord(done, "version=v2\n")],
        ("deploy/b@web1", 2): [RemoteRecord(StatusRecord(status=3, ended_at=2.0))],
        ("deploy/a@web2", 1): [
            RemoteRecord("running"),
            RemoteRecord("running"),
            RemoteRecord(done),
        ],
        ("deploy/b@web2", 1): [RemoteRecord("absent")],
        ("deploy/a@web3", 1): [RemoteRecord(None)],
    }
    journal: list[Any] = []
    runner = SimpleNamespace(
        state=SimpleNamespace(items=items),
        ctx=SimpleNamespace(orphan_wait=30.0, masker=Masker()),
        fleet=fleet,
    )
    runner.journal = lambda event, durable=False: journal.append(event)
    labels: dict[str, dict[str, Any]] = {h: {} for h in ("web1", "web2", "web3")}
    settled = asyncio.run(_settle(runner, SimpleNamespace(id="deploy"), labels))  # type: ignore[arg-type]

    assert settled is False  # web3's item has no record: a human decides
    # One read per host for all its items; web2's running item alone re-read until it ended.
    firsts = sorted(fleet.reads[:3])
    assert firsts == [
        ("web1", ["deploy/a@web1", "deploy/b@web1"]),
        ("web2", ["deploy/a@web2", "deploy/b@web2"]),
        ("web3", ["deploy/a@web3"]),
    ]
    assert fleet.reads[3:] == [("web2", ["deploy/a@web2"])] * 2
    ended = {e.key: e for e in journal if getattr(e, "type", "") == "item.finished"}
    assert {k: e.status for k, e in ended.items()} == {
        "deploy/a@web1": "succeeded",
        "deploy/b@web1": "failed",
        "deploy/a@web2": "succeeded",
        "deploy/b@web2": "interrupted",
    }
    assert ended["deploy/a@web1"].outputs == {"version": "v2"}
    assert ended["deploy/b@web1"].attempt == 2 and ended["deploy/b@web1"].exit_code == 3
    unknown = [e.key for e in journal if getattr(e, "type", "") == "item.unknown"]
    assert unknown == ["deploy/a@web3"]
