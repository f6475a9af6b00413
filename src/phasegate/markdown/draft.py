"""The plan being imported, as plain data with the source line of every entry."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar, Unpack

from phasegate.markdown.nodes import (
    CheckNode,
    Metadata,
    MonitorNode,
    PhaseExtra,
    PlanExtra,
    PlanKeys,
    StepNode,
    TrafficNode,
    TriggerNode,
    VarSpec,
)
from phasegate.plan.model import slugify

if TYPE_CHECKING:
    from phasegate.markdown.carry import Definition
    from phasegate.markdown.deps import Edge
    from phasegate.markdown.entries import ReportEntry, ReportLists
    from phasegate.markdown.traffic import Ramp

_PREFIX = re.compile(
    r"^[\W_]*(?:(?:phase|stage|step|day|week|wave|task|milestone|sprint|round|part)\s*"
    r"[-#:]?\s*[\w.]{1,4}|\d{1,2}(?:\.\d{1,2})*[.)]?)\s*[:.)\-–—]*\s*",
    re.I,
)


_PAREN = re.compile(r"\s*[(\[（]([^)\]）]*)[)\]）]")
_SCHEDULE = re.compile(r"\b(?:week|day|sprint|month|q)\s*\d+\b|\b\d{4}-\d{2}-\d{2}\b", re.I)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s*(?:min|minutes?|hours?|hrs?|h|days?|weeks?|d|w)\b", re.I)


def add_to_checklist(metadata: Metadata, text: str) -> None:
    """One more line of the ``rollback_checklist`` a person works through on rollback."""
    checklist = metadata.setdefault("rollback_checklist", [])
    # a "Rollback checklist: …" line of the heading's metadata holds the same key as text
    assert isinstance(checklist, list), "rollback_checklist is a list"
    checklist.append(text)


def _short_slug(title: str, limit: int = 48) -> str:
    """A slug cut at a word boundary: ids stay readable in `status` and `logs`."""
    slug = slugify(title)
    if len(slug) <= limit:
        return slug
    cut = slug[:limit]
    return cut.rsplit("-", 1)[0] if "-" in cut else cut


# The node an entry holds: a step, check, monitor, trigger or traffic block (nodes.py).
NodeT = TypeVar("NodeT", StepNode, CheckNode, MonitorNode, TriggerNode, TrafficNode)


@dataclass
class Entry(Generic[NodeT]):
    """A plan node and the Markdown line it came from."""

    data: NodeT
    line: int
    # a step's checks before it (order.py)
    pre_gates: list[Entry[CheckNode]] = field(default_factory=list)


@dataclass
class PhaseDraft:
    id: str
    name: str
    line: int
    named: bool  # the heading names a phase: kept even when empty
    keys: set[str] = field(default_factory=set)
    needs: list[str] = field(default_factory=list)
    steps: list[Entry[StepNode]] = field(default_factory=list)
    gates: list[Entry[CheckNode]] = field(default_factory=list)
    rollback: list[Entry[StepNode]] = field(default_factory=list)
    # never-ending observation (monitors.py)
    monitors: list[Entry[MonitorNode]] = field(default_factory=list)
    owner: str | None = None
    metadata: Metadata = field(default_factory=dict)
    rollback_budget: float | None = None  # "Rollback Time from this stage: <1 minute"
    # phase keys of timekeeping.py (risk) and decisions.py (the rollback menu)
    extra: PhaseExtra = field(default_factory=PhaseExtra)
    checkpoint_at: float = 0.0  # the offset of the phase's last timed checkpoint (checkpoints)

    def keep(self) -> bool:
        return self.named or bool(self.steps or self.gates or self.rollback or self.monitors)


@dataclass
class Draft:
    source: str
    title: str = ""
    phases: list[PhaseDraft] = field(default_factory=list)
    plan_rollback: list[Entry[StepNode]] = field(default_factory=list)
    # the plan rollback's decision
    rollback_extra: PlanExtra = field(default_factory=PlanExtra)
    verify_rollback: list[Entry[CheckNode]] = field(default_factory=list)
    metadata: Metadata = field(default_factory=dict)
    report: ReportLists = field(
        default_factory=lambda: {
            "steps": [],
            "checks": [],
            "rollback": [],
            "rollback_checklist": [],
            "rollback_sections": [],
            "dependencies": [],
            "data": [],
            "annotations": [],
            "unmapped": [],
            "unmapped_sections": [],
            "ambiguous": [],
            "triggers": [],
            "traffic": [],
            "needs_binding": [],
            "recovery": [],
            "decisions": [],
            "reference": [],
            "monitors": [],
        }
    )
    edges: list[Edge] = field(default_factory=list)  # stated dependencies, see deps.py
    triggers: list[Entry[TriggerNode]] = field(default_factory=list)  # see triggers.py
    trigger_names: set[str] = field(default_factory=set)
    vars: dict[str, VarSpec] = field(default_factory=dict)  # variables imported entries use
    # a rollback menu's ways in the document's words, per variable and value (decisions.py)
    way_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    health_url: str | None = None  # a health endpoint the document names
    ramps: list[Ramp] = field(default_factory=list)  # stated traffic ramps, see traffic.py
    traffic: Entry[TrafficNode] | None = None
    rollback_budget: float | None = None  # "Rollback Time: <5 Minutes Guaranteed"
    budgets: list[tuple[str, float, int]] = field(default_factory=list)  # (row label, s, line)
    rollback_purpose: bool = False  # the document is a rollback runbook (rules.py)
    # values the prose itself calls an example ("in this guide's example, revision `88`"):
    # value -> the line saying so (placeholders.py)
    examples: dict[str, int] = field(default_factory=dict)
    # inline-code values the prose tells the reader to replace with theirs (placeholders.py)
    replaced: dict[str, int] = field(default_factory=dict)
    # PowerShell `$name = …` lines an earlier block set by reading only (powershell.defines):
    # name (lower case) -> the lines that set it, its prerequisites first
    pwsh_defs: dict[str, list[str]] = field(default_factory=dict)
    cmd_defs: dict[str, str] = field(default_factory=dict)  # cmd.exe `set`s (cmdexe.py)
    fish_defs: dict[str, str] = field(default_factory=dict)  # fish `set`s (fishshell.py)
    # every $NAME / ${NAME} the document writes anywhere (human.config_settings)
    referenced: set[str] = field(default_factory=set)
    # another user's shell the fences so far left open (`sudo -i -u app`, `su - app` with no
    # `exit` yet; an open `ssh host` is not carried): later fences' commands are typed there
    # (shellparse.sessions)
    session: str | None = None
    # shell functions and arrays the fences so far defined, by name (carry.py)
    definitions: dict[str, Definition] = field(default_factory=dict)
    # conditions a human must bind before the run (triggers.py): (phase or plan, step)
    unsure: list[tuple[PhaseDraft | None, Entry[StepNode]]] = field(default_factory=list)
    # plan keys of timekeeping.py: windows, budget (runway, pause bound), monitor
    plan_keys: PlanKeys = field(default_factory=PlanKeys)
    # interactive SQL clients the document opens: (line, client, program) (sqlsession.py)
    sql_sessions: list[tuple[int, str, str]] = field(default_factory=list)

    def new_phase(self, title: str, line: int, named: bool) -> PhaseDraft:
        taken = {p.id for p in self.phases}
        base = _short_slug(_PAREN.sub("", title)) or slugify(title)
        if base == "step" and "step" not in title.lower():
            base = f"phase-{len(self.phases) + 1}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        phase = PhaseDraft(candidate, title.strip() or candidate, line, named)
        for inside in _PAREN.findall(title):
            if _TIME.search(inside):
                phase.metadata.setdefault("window", inside.strip())
            elif _DURATION.search(inside):
                phase.metadata.setdefault("duration", inside.strip())
            elif _SCHEDULE.search(inside):
                phase.metadata.setdefault("schedule", inside.strip())
        phase.keys = {candidate, slugify(title)}
        short = _PREFIX.sub("", title.strip())
        if short and short != title.strip():
            phase.keys.add(slugify(short))
        phase.keys |= {k.lower() for k in re.findall(r"`([^`]+)`", title)}
        self.phases.append(phase)
        return phase

    def note(self, report_list: str, /, **entry: Unpack[ReportEntry]) -> None:
        self.report.setdefault(report_list, []).append(entry)

    def report_dependency(self, entry: ReportEntry) -> None:
        self.report["dependencies"].append(entry)
