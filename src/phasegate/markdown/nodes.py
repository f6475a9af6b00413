"""The plan fragments the importer writes, typed: one ``TypedDict`` per kind of YAML node.

The importer builds the plan as plain data (``emit.py`` dumps it in insertion order, so the
YAML a reviewer reads is the dict as built): these types name each node's keys and what they
hold, so a mapper cannot misspell a key and a reader never guesses one. Every node is
``total=False``: a key is written only when the document gave it. The plan model
(``phasegate.plan``) validates the emitted text; these types mirror the subset of its keys
the importer writes.

Kinds (each a plan node, in the order a plan holds them):

- :class:`PlanNode` — the plan: ``version``, ``name``, ``vars`` (:class:`VarSpec`), ``budget``
  (:class:`BudgetNode`), ``monitor`` (:class:`MonitorPlan`), ``windows``
  (:class:`WindowsNode`), ``traffic`` (:class:`TrafficNode`), ``triggers``
  (:class:`TriggerNode`), ``phases`` (:class:`PhaseNode`), ``verify_rollback``;
- phase items: :class:`StepNode` (steps and rollback actions), :class:`CheckNode` (gates,
  pre-gates, rollback verification), :class:`MonitorNode` (a phase's monitors);
- :class:`ProgramPhase` — a phase of a proposed program (``programs.py``).

Only text the author wrote as YAML (front matter, a directive's ``expect``) is
:data:`YamlValue`: its keys are not ours to know.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NotRequired, TypeAlias, TypedDict

from phasegate.run.record import JsonValue

__all__ = [
    "AuthorExpect",
    "Bound",
    "BudgetNode",
    "CheckNode",
    "Choose",
    "Expectation",
    "FrontMatter",
    "ItemNode",
    "Metadata",
    "MonitorNode",
    "MonitorPlan",
    "MonitorSegment",
    "PauseUntil",
    "PhaseExtra",
    "PhaseNode",
    "PlanExtra",
    "PlanKeys",
    "PlanNode",
    "ProgramPhase",
    "Provider",
    "Readiness",
    "RollbackDecision",
    "StepNode",
    "TrafficNode",
    "TriggerCheck",
    "TriggerNode",
    "VarSpec",
    "WindowRule",
    "WindowsNode",
    "YamlValue",
]

# What ``yaml.safe_load`` gives for text an author wrote (front matter): JSON's values plus
# the dates YAML reads unquoted.
YamlValue: TypeAlias = (
    str | int | float | bool | date | datetime | list["YamlValue"] | dict[str, "YamlValue"] | None
)
FrontMatter: TypeAlias = dict[str, YamlValue]

# A comparison the plan model reads: ``{">": 0}``, ``{">=": 1}``.
Bound: TypeAlias = dict[str, int]


class Expectation(TypedDict, total=False):
    """A check's ``expect:`` as the importer reads it from the text (expect.py, queries.py)."""

    exit: int | Bound
    status: int
    count: int | Bound
    empty: bool
    exists: bool
    stdout_contains: str
    json: dict[str, JsonValue]  # JSONPath -> the value the output holds there


# A ``<!-- phasegate: expect: … -->`` the author wrote, checked against the plan model's
# ``CommandExpect`` (directives.py): its keys are the author's.
AuthorExpect: TypeAlias = dict[str, YamlValue]

# ``{"prometheus": {"url": "${PROMETHEUS_URL}"}}``: a metric provider by kind.
Provider: TypeAlias = dict[str, dict[str, str]]


class Choose(TypedDict):
    """A pause that passes only with one of ``options`` chosen into ``vars.<var>``."""

    var: str
    options: list[str]


class PauseUntil(TypedDict, total=False):
    """``pause:`` as a mapping: approvers to wait for, or a choice to make."""

    until: str
    approvers: int
    choose: Choose


class StepNode(TypedDict, total=False):
    """A step or a rollback action: a command, a pause for a person, or a traffic weight."""

    name: str
    run: str
    shell: str  # pwsh for a PowerShell block
    undo: str
    pause: str | PauseUntil  # "approve", "30s", or a mapping
    set_weight: int | dict[str, int]
    bake: str
    when: str  # an alternative's condition: runs only when the operator chose it
    needs_binding: str
    pre_gates: list[CheckNode]  # emitted only (emit.py): the step's checks before it


class CheckNode(TypedDict, total=False):
    """A gate, a pre-gate or a rollback verification: one of ``command``, ``file``, ``http``,
    ``sql``, ``metric`` or ``manual``, with what passing looks like."""

    name: str
    command: str
    shell: str  # a PowerShell check runs under pwsh (powershell.SHELL)
    file: str
    http: str
    tcp: str  # HOST:PORT (`Test-NetConnection -ComputerName h -Port p`)
    sql: str
    database: str
    metric: str
    provider: Provider
    success: str  # a metric's bound ("< 0.01")
    manual: str
    checked: bool  # a task box already ticked in the document
    expect: Expectation | AuthorExpect


class MonitorNode(TypedDict, total=False):
    """A never-ending observation run beside its phase's steps (monitors.py)."""

    name: str
    run: str
    description: str
    every: str


# Any item of a phase: what code reading every list of a phase (report, verdict) sees.
ItemNode: TypeAlias = StepNode | CheckNode | MonitorNode


class TriggerCheck(TypedDict, total=False):
    """A trigger's check: a metric bound, a health probe, or an expression left to bind."""

    metric: str
    provider: Provider
    failure: str
    http: str
    expect: Expectation
    expr: str
    name: str


class TriggerNode(TypedDict, total=False):
    """A background condition that pauses, alerts or rolls back (triggers.py)."""

    name: str
    description: str
    needs_binding: str
    check: TriggerCheck
    every: str
    fail_after: int
    action: str
    during: list[str]


class TrafficNode(TypedDict, total=False):
    """The plan's ``traffic:`` (traffic.py): the backends the ramps shift between."""

    backends: list[str]
    baseline: dict[str, int]
    needs_binding: str


class VarSpec(TypedDict, total=False):
    """A plan variable: read from ``env``, with a default or a binding a person gives."""

    env: str
    default: str
    needs_binding: str
    description: str


class WindowRule(TypedDict, total=False):
    """One ``allow`` or ``deny`` rule of a change window (windows_section.py)."""

    days: list[str]
    hours: str
    risk: list[str]
    reason: str


class WindowsNode(TypedDict, total=False):
    timezone: str
    allow: list[WindowRule]
    deny: list[WindowRule]


class BudgetNode(TypedDict, total=False):
    """``budget:``: the rollback budget (emit.py) and the guardrails (guardrails.py)."""

    rollback: str
    duration: str
    runway: list[str]
    pause_above: str


# ``{"every": "5m", "for": "1h"}``: one segment of a monitoring schedule (``for`` is a keyword).
MonitorSegment = TypedDict("MonitorSegment", {"every": str, "for": str})


class MonitorPlan(TypedDict, total=False):
    """The plan's ``monitor:`` after the rollout (monitoring.py)."""

    schedule: list[MonitorSegment]
    checks: list[CheckNode]
    on_failure: str


class PlanKeys(TypedDict, total=False):
    """Plan keys timekeeping.py gathers before the plan is emitted."""

    windows: WindowsNode
    budget: BudgetNode
    monitor: MonitorPlan
    _monitor_line: int  # the line the monitoring schedule came from (not emitted)


class RollbackDecision(TypedDict):
    """A rollback menu: the variable a person sets when the rollback comes, and its ways."""

    var: str
    options: list[str]


class PhaseExtra(TypedDict, total=False):
    """Phase keys beside the counted items: the phase's risk, its rollback menu."""

    risk: str
    rollback_decision: RollbackDecision


class PlanExtra(TypedDict, total=False):
    """The plan rollback's menu, moved into the first phase when emitted (emit.py)."""

    rollback_decision: RollbackDecision


# ``metadata:`` of a phase or the plan: labelled lines ("Owner: …") and the rollback checklist.
Metadata: TypeAlias = dict[str, str | list[str]]


class PhaseNode(TypedDict, total=False):
    id: str
    name: str
    needs: list[str]
    owner: str
    rollback_budget: str
    risk: str
    rollback_decision: RollbackDecision
    metadata: Metadata
    monitors: list[MonitorNode]
    steps: list[StepNode]
    gates: list[CheckNode]
    rollback: list[StepNode]


class PlanNode(TypedDict, total=False):
    version: int
    name: str
    description: str
    vars: dict[str, VarSpec]
    budget: BudgetNode
    monitor: MonitorPlan
    windows: WindowsNode
    shell_session: bool
    metadata: Metadata
    traffic: TrafficNode
    triggers: list[TriggerNode]
    phases: list[PhaseNode]
    verify_rollback: list[CheckNode]


class Readiness(TypedDict, total=False):
    """A proposed program child's ``ready:`` (programs.py)."""

    evidence: dict[str, str]
    verdict: str
    score: str
    min_score: int | float


class ProgramPhase(TypedDict):
    """A phase of a proposed program: one child runbook's plan (``run_plan``), after the one
    before it (``needs``), ready when its evidence says so."""

    id: str
    needs: NotRequired[list[str]]
    run_plan: NotRequired[str]
    ready: NotRequired[Readiness]
