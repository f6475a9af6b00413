"""What the metrics need from one run's journal, folded once and kept small: a digest that
grows with the events read, never with the values seen, so scraping many runs stays cheap."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from phasegate.engine.targets import Targets
from phasegate.errors import PhasegateError
from phasegate.plan.loader import load_plan_text
from phasegate.run.events import (
    AnalysisMeasured,
    Event,
    ItemFinished,
    NotificationFailed,
    RollbackFinished,
    RollbackStarted,
    RunCreated,
    TrafficChanged,
)

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Histogram:
    """Fixed buckets, so a digest stays a few numbers however many values it has seen."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        index = next((i for i, b in enumerate(self.bounds) if value <= b), len(self.bounds))
        self.counts[index] += 1
        self.sum += value

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.sum += other.sum

    def cumulative(self) -> list[tuple[str, float]]:
        out, total = [], 0
        for bound, count in zip([*map(str, self.bounds), "+Inf"], self.counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out


@dataclass
class RunDigest:
    """What one run contributes to the metrics, folded from its events in order."""

    run_id: str
    plan: str
    seq: int = 0
    steps: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    gates: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    rollback: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    detection: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    checks: Counter[str] = field(default_factory=Counter)
    failed_checks: Counter[str] = field(default_factory=Counter)  # item key → failures
    failing: dict[str, bool] = field(default_factory=dict)  # check key → blocking and failing
    analyses: set[str] = field(default_factory=set)
    rollbacks: Counter[str] = field(default_factory=Counter)
    overruns: int = 0
    rollback_budget: float | None = None
    weights: dict[str, float] = field(default_factory=dict)
    notification_failures: Counter[str] = field(default_factory=Counter)
    # Gate key → check kind: from run.created's outline; for a journal older than the outline
    # (event-schema version 1), from the plan the run stored, read once when needed.
    kinds: dict[str, str] | None = None

    def fold(self, seq: int, event: Event) -> None:
        self.seq = seq
        match event:
            case RunCreated(outline=outline) if outline is not None:
                # Each gate's check kind as the run recorded it: no plan to re-load.
                self.kinds = outline.check_kinds()
            case ItemFinished():
                self._item(event)
            case AnalysisMeasured(key=key):
                self.analyses.add(key)
            case TrafficChanged(detection_latency=latency):
                if event.confirmed is not None:
                    self.weights = {name: float(v) for name, v in event.confirmed.items()}
                if latency is not None:
                    self.detection.observe(float(latency))
            case RollbackStarted(budget=budget):
                if budget is not None:
                    self.rollback_budget = float(budget)
            case RollbackFinished(status=status, duration=duration, overrun=overrun):
                self.rollbacks[status] += 1
                if duration is not None:
                    self.rollback.observe(float(duration))
                self.overruns += overrun
            case NotificationFailed(channel=channel):
                self.notification_failures[channel] += 1

    def _item(self, event: ItemFinished) -> None:
        kind, status, key, duration = event.kind, event.status, event.key, event.duration
        if status in ("retrying", "awaiting_approval"):
            return
        if kind == "gate" or (kind == "step" and key in self.analyses):
            self.checks[status] += 1
            failed = status in ("failed", "error")
            if failed:
                self.failed_checks[key] += 1
            self.failing[key] = failed and event.severity != "warn"
        if kind == "gate" and duration is not None:
            self.gates.observe(float(duration))
        elif kind == "step" and duration is not None and status != "skipped":
            self.steps.observe(float(duration))

    def needs_plan(self) -> bool:
        """True while a failed gate's check kind is unknown (the plan has not been read)."""
        return self.kinds is None and any(k not in self.analyses for k in self.failed_checks)

    def failure_kinds(self, plan_text: str | None) -> Counter[str]:
        """Failed checks by check kind; the plan (read once) says which kind a gate is."""
        if self.needs_plan() and plan_text is not None:
            self.kinds = _gate_kinds(plan_text)
        out: Counter[str] = Counter()
        for key, count in self.failed_checks.items():
            kind = "analysis" if key in self.analyses else (self.kinds or {}).get(key, "unknown")
            out[kind] += count
        return out


def _gate_kinds(plan_text: str) -> dict[str, str]:
    try:
        plan = load_plan_text(plan_text, Path("plan.yaml")).plan
    except (PhasegateError, ValueError):
        return {}  # a plan this version cannot load: its gates count as "unknown"
    return {key: target.check.kind for key, target in Targets(plan).gates.items()}


@dataclass(frozen=True)
class RunRow:
    run_id: str
    plan: str
    status: str
    created_at: float
    finished_at: float | None
    last_seq: int
