"""A pure driver of the state machine for tests: no processes, no clock, no database.

It plays the runner's part: dispatches what ``decide`` asks for, and completes in-flight work
in an order chosen by the test (to model concurrency), journaling the same events the real
runner journals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from phasegate.engine.commands import (
    Command,
    EndWait,
    Finish,
    FinishPhase,
    FinishRollback,
    Pause,
    RunItem,
    StartPhase,
    StartRollback,
    Wait,
)
from phasegate.engine.decide import decide
from phasegate.engine.targets import Targets
from phasegate.plan.model import Plan
from phasegate.run.state import RunState, apply_stored


@dataclass
class Simulation:
    plan: Plan
    failing: set[str] = field(default_factory=set)  # item keys whose outcome is a failure
    state: RunState = field(init=False)
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)  # keys in completion order
    clock: float = 0.0
    # The wall clock decide reads for change windows (epoch seconds); a test moves it. A run
    # waiting for a window returns from ``run`` until the test moves it and runs again.
    now: float | None = None
    times: list[float | None] = field(default_factory=list)  # ``now`` at each event

    def __post_init__(self) -> None:
        self.state = RunState(run_id="sim")
        self.targets = Targets(self.plan)
        self.emit(
            "run.created",
            {
                "phases": [p.id for p in self.plan.phases],
                "needs": {p.id: p.needs for p in self.plan.phases},
            },
        )
        self.emit("run.started", {})
        self.inflight: dict[str, str] = {}

    def emit(self, etype: str, data: dict[str, object]) -> None:
        self.clock += 1.0
        apply_stored(self.state, etype, dict(data), self.clock)
        self.events.append((etype, dict(data)))
        self.times.append(self.now)

    def run(
        self, choose: Callable[[list[str]], int] = lambda keys: 0, limit: int = 100_000
    ) -> RunState:
        for _ in range(limit):
            if self.state.status not in ("running", "rolling_back", "waiting"):
                return self.state
            progressed = False
            for command in decide(self.plan, self.state, self.inflight.keys(), self.now):
                progressed = True
                self._dispatch(command)
            if self.state.status not in ("running", "rolling_back", "waiting"):
                return self.state
            if self.state.status == "waiting" and not progressed:
                return self.state
            if progressed:
                continue
            keys = sorted(self.inflight)
            assert keys, "decide returned nothing while nothing is in flight"
            self._complete(keys[choose(keys) % len(keys)])
        raise AssertionError("simulation did not terminate")

    def _dispatch(self, command: Command) -> None:
        match command:
            case StartPhase(phase=phase):
                self.emit("phase.started", {"phase": phase})
            case FinishPhase(phase=phase, status=status):
                self.emit("phase.finished", {"phase": phase, "status": status})
            case RunItem(work="run_step" | "run_undo" as kind, key=key):
                item_kind = (
                    "step"
                    if kind == "run_step"
                    else ("undo" if key.startswith("undo:") else "rollback")
                )
                self.emit("item.started", {"key": key, "kind": item_kind})
                self.inflight[key] = kind
            case RunItem(work="run_gate" | "run_verify" as kind, key=key):
                self.inflight[key] = kind
            case StartRollback(order=order):
                self.emit("rollback.started", {"order": list(order)})
            case FinishRollback(status=status):
                self.emit("rollback.finished", {"status": status})
                self.emit("run.finished", {"status": status})
            case Pause(reason=reason):
                self.emit("run.paused", {"reason": reason})
            case Finish(status=status):
                self.emit("run.finished", {"status": status})
            case Wait():
                wait = {
                    "phase": command.phase,
                    "risk": command.risk,
                    "rule": command.rule,
                    "reason": command.reason,
                    "why": command.why,
                    "next_open": command.next_open,
                    "timezone": command.timezone,
                    "admission": command.admission,
                }
                self.emit("run.waiting", wait)
            case EndWait(how=how, by=by):
                self.emit("run.wait_ended", {"how": how, "by": by})
            case _:
                raise AssertionError(command)

    def _complete(self, key: str) -> None:
        kind = self.inflight.pop(key)
        self.executed.append(key)
        failed = key in self.failing
        if kind == "run_step":
            phase = self.targets.step(key).phase
            self.emit(
                "item.finished",
                {
                    "key": key,
                    "kind": "step",
                    "phase": phase.id,
                    "status": "failed" if failed else "succeeded",
                },
            )
        elif kind == "run_gate":
            phase = self.targets.gate(key).phase
            self.emit(
                "item.finished",
                {
                    "key": key,
                    "kind": "gate",
                    "phase": phase.id,
                    "status": "failed" if failed else "passed",
                },
            )
        elif kind == "run_undo":
            self.emit(
                "item.finished",
                {"key": key, "kind": "undo", "status": "failed" if failed else "succeeded"},
            )
        else:
            self.emit(
                "item.finished",
                {"key": key, "kind": "verify", "status": "failed" if failed else "passed"},
            )
