"""An effect module driven by a small fake of its port (engine/port.py), no Runner: the
change-window wait (engine/waiting.py) journals durably, in order, and says what it records."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from phasegate.engine import waiting
from phasegate.engine.commands import EndWait, Wait
from phasegate.run.events import Event, RunWaitEnded, RunWaiting


@dataclass
class FakeRun:
    """What ``RunPort`` reads and writes, recorded: journal calls and console notes."""

    state: Any
    journalled: list[tuple[Event, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ctx: Any = SimpleNamespace(
            console=SimpleNamespace(note=lambda text, color: self.notes.append(text))
        )

    def journal(self, event: Event, *, durable: bool = False, recorded: bool = False) -> None:
        self.journalled.append((event, durable))


def test_a_wait_and_its_end_are_journalled_durably_with_the_commands_fields() -> None:
    run = FakeRun(state=SimpleNamespace(run_id="r-1", wait=None))
    command = Wait(
        phase="db",
        risk="high",
        rule="deny[0]",
        reason="release meeting",
        why="deny[0] (release meeting) denies",
        next_open=0.0,
        timezone="UTC",
        admission=True,
    )
    waiting.begin(run, command)  # type: ignore[arg-type]  # the fake has what begin reads
    assert run.journalled == [
        (
            RunWaiting(
                phase="db",
                risk="high",
                rule="deny[0]",
                reason="release meeting",
                why="deny[0] (release meeting) denies",
                next_open=0.0,
                timezone="UTC",
                admission=True,
            ),
            True,
        )
    ]
    assert "phase db (high risk) is outside its change window" in run.notes[0]
    assert "opens Thu 1970-01-01 00:00 UTC (1970-01-01T00:00:00Z)" in run.notes[0]
    assert "`phasegate approve r-1 --break-glass" in run.notes[0]

    run.state.wait = {"phase": "db", "risk": "high"}
    waiting.end(run, EndWait(how="break_glass", by="alice"))  # type: ignore[arg-type]
    assert run.journalled[1] == (RunWaitEnded(how="break_glass", by="alice"), True)
    assert run.notes[1] == "⏳ break-glass by alice: phase db (high risk) starts outside its window"
