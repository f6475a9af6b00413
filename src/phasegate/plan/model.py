"""The plan, version 1: an immutable pydantic model.

Check fields are typed with :class:`CheckSpec`; the loader replaces each raw check mapping with
an instance of the right kind before the plan model is validated (see ``plan.checkspecs``), so
unknown check options fail with their own file:line.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from pydantic import ByteSize, Field, SerializeAsAny, field_validator, model_validator

from phasegate.checks.base import CheckSpec
from phasegate.fleet.spec import Batch, MinHealthy, Sample, Targets
from phasegate.notify.config import Notify
from phasegate.options import Command, Duration, Identifier, Model
from phasegate.plan.analysis import Analysis
from phasegate.plan.budget import Budget
from phasegate.plan.estimate import EstimateHint, PlanEstimate
from phasegate.plan.monitor import Monitor
from phasegate.plan.postmonitor import PostMonitor
from phasegate.plan.program import GoNoGo, Readiness
from phasegate.plan.windows import Risk, Windows
from phasegate.traffic.base import RouterSpec, describe_weights

OnFailure = Literal["rollback", "pause", "abort"]
AnyCheck = SerializeAsAny[CheckSpec]

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60] or "step"


# A lane's name (lanes/model.py valid_lane_name): a word of letters, digits, ``_ . -``.
LANE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class VarSpec(Model):
    """A variable with a source other than a literal, or a secret literal."""

    value: str | int | float | bool | None = None
    env: str | None = Field(None, description="read from this environment variable")
    default: str | int | float | bool | None = Field(
        None, description="used when the environment variable is not set"
    )
    secret: bool = Field(False, description="mask the value everywhere")
    description: str | None = None
    needs_binding: str | None = Field(
        None, description="the run needs this variable's environment variable to be set"
    )

    @model_validator(mode="after")
    def _one_source(self) -> VarSpec:
        if self.value is not None and self.env is not None:
            raise ValueError("give either value or env, not both")
        return self


VarValue = str | int | float | bool | VarSpec


class Action(Model):
    """A command with its execution options (a step's undo, a rollback action)."""

    name: str | None = None
    run: Command
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None
    shell: str | None = Field(None, description="overrides defaults.shell for this command")
    idempotent: bool = Field(
        False, description="safe to re-run after a crash left its outcome unknown"
    )
    when: str | None = Field(
        None,
        description="CEL condition evaluated when the rollback reaches this action; skipped "
        "when false (the rollback of one chosen way: `vars.VAR == 'option'`)",
    )


def _action(value: Any) -> Any:
    if isinstance(value, str | list):
        return {"run": value}
    return value


NEEDS_BINDING = (
    "what the author must supply before this can run (set by `phasegate import` when the "
    "document does not say); a plan with any `needs_binding` validates but does not run"
)
Weight = Annotated[int, Field(ge=0, le=100)]


class PauseChoice(Model):
    """A decision the operator makes at an approval pause: which of the options runs. The
    items of each option carry ``when: vars.VAR == 'option'``; the pause does not pass until
    VAR holds one of the options, so approving without choosing cannot silently run none."""

    var: Identifier = Field(description="the variable (declared in `vars:`) naming the choice")
    options: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        min_length=1, max_length=50, description="the values VAR may take"
    )


class Pause(Model):
    """A canary pause: a duration, or until an operator approves (`phasegate approve`)."""

    duration: Duration | None = Field(None, description="wait this long, then continue")
    until: Literal["approve"] | None = Field(
        None, description="`approve`: wait for `phasegate approve` (the run pauses, exit 4)"
    )
    approvers: int = Field(1, ge=1, le=20, description="distinct approvals needed")
    choose: PauseChoice | None = Field(
        None,
        description="with `until: approve`: the pause passes only once the variable holds one "
        "of the options (`phasegate resume RUN --var VAR=option` after approving)",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Pause:
        if (self.duration is None) == (self.until is None):
            raise ValueError("a pause has a `duration` (e.g. 30s) or `until: approve`, not both")
        if self.choose is not None and self.until != "approve":
            raise ValueError("`choose` belongs to `until: approve` (a human makes the choice)")
        return self

    def words(self) -> str:
        if self.duration is not None:
            return f"pause {self.duration:g}s"
        return "pause until approved"


def _pause(value: Any) -> Any:
    if value == "approve":
        return {"until": "approve"}
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {"duration": value}
    return value


AnalysisRef = Annotated[
    Identifier | Analysis,
    Field(description="the name of an analysis in `analyses:`, or an analysis written in place"),
]
STEP_ACTIONS = ("run", "set_weight", "pause", "analysis", "promote")


class Step(Model):
    id: Identifier | None = Field(None, description="defaults to a slug of the name")
    name: str | None = None
    run: Command | None = Field(None, description="the command (a step has `run` or `set_weight`)")
    set_weight: Weight | dict[Identifier, Weight] | None = Field(
        None,
        description="shift traffic through the plan's router: the canary's percentage, or a "
        "percentage per backend adding up to 100",
    )
    pause: Pause | None = Field(
        None, description="wait: a duration (`pause: 30s`) or until approved (`pause: approve`)"
    )
    analysis: AnalysisRef | None = Field(
        None, description="run this analysis now; the step fails when the analysis fails"
    )
    promote: bool = Field(
        False,
        description="all traffic to the canary; with `run`, then run the command that makes "
        "stable the new version and return traffic to the baseline",
    )
    bake: Duration | None = Field(
        None, description="after `set_weight` or `promote`: hold the new weights this long"
    )
    needs_binding: str | None = Field(None, description=NEEDS_BINDING)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None
    shell: str | None = None
    retries: int = Field(0, ge=0, le=100, description="extra attempts after a failure")
    backoff: Duration = Field(1.0, description="first retry delay; doubles each attempt")
    when: str | None = Field(None, description="CEL condition; the step is skipped when false")
    undo: Annotated[Action | None, Field(description="run on rollback if this step completed")] = (
        None
    )
    idempotent: bool = False
    continue_on_error: bool = False
    pre_gates: list[AnyCheck] = Field(
        default_factory=list,
        description="checks verified, in order, just before this step starts (a pre-check the "
        "runbook gives before this step); a failure is a failed gate. Skipped with the step "
        "when its `when` is false",
    )
    estimate: EstimateHint | None = Field(
        None,
        description="how long this usually takes (`{p50: 2m, p90: 5m}`): the prior of its "
        "duration estimate until the plan's history says more (docs/estimates.md)",
    )

    # The shorthands the validators accept are part of the exported schema too
    # (json_schema_input_type): `undo: ./undeploy.sh`, `pause: approve`, `pause: 30s`.
    _normalise_undo = field_validator(
        "undo", mode="before", json_schema_input_type=Command | Action | None
    )(_action)
    _normalise_pause = field_validator(
        "pause", mode="before", json_schema_input_type=Literal["approve"] | Duration | Pause | None
    )(_pause)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [name for name in STEP_ACTIONS if getattr(self, name) is not None]
        if not self.promote:
            given.remove("promote")  # `promote: false` is no action; `set_weight: 0` is one
        if not given:
            raise ValueError(
                "missing `run`: a step runs a command (`run: ./deploy.sh`, or an argv list), "
                "shifts traffic (`set_weight: 25`), waits (`pause: 30s`), analyses metrics "
                "(`analysis: NAME`) or promotes the canary (`promote: true`)"
            )
        if given == ["run", "promote"]:
            given = ["promote"]  # promote's own command: make stable the new version
        if len(given) > 1:
            listed = ", ".join(f"`{name}`" for name in given)
            raise ValueError(f"a step does one thing; this one has {listed}")
        if self.undo is not None and given[0] in ("set_weight", "pause", "analysis"):
            raise ValueError(
                f"a `{given[0]}` step has no `undo`: rollback returns traffic to the baseline"
            )
        if self.bake is not None and given[0] not in ("set_weight", "promote"):
            raise ValueError("`bake` holds new weights: it belongs to `set_weight` or `promote`")
        if self.bake is not None and self.promote and self.run is not None:
            raise ValueError(
                "a `promote` step with `run` does not bake (its command follows at once): "
                "put `set_weight: 100` with `bake` before it"
            )
        return self

    @property
    def action(self) -> str:
        """What the step does: run, set_weight, pause, analysis or promote."""
        if self.promote:
            return "promote"
        for name in STEP_ACTIONS:
            if getattr(self, name) is not None:
                return name
        raise AssertionError("a validated step has an action")  # pragma: no cover

    @property
    def waits(self) -> bool:
        """A canary step that only waits or watches: cut short when the run fails."""
        return self.action in ("pause", "analysis") or (
            self.action == "set_weight" and self.bake is not None
        )

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.set_weight is not None:
            bake = f", bake {self.bake:g}s" if self.bake else ""
            return f"set weight {weight_words(self.set_weight)}{bake}"
        if self.pause is not None:
            return self.pause.words()
        if self.analysis is not None:
            name = self.analysis if isinstance(self.analysis, str) else "inline"
            return f"analysis {name}"
        if self.promote:
            return "promote"
        assert self.run is not None
        text = self.run if isinstance(self.run, str) else " ".join(self.run)
        first = text.strip().splitlines()[0] if text.strip() else ""
        return first[:60]


class Phase(Model):
    id: Identifier
    name: str | None = None
    description: str | None = None
    needs: list[Identifier] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    gates: list[AnyCheck] = Field(default_factory=list)
    rollback: list[Action] = Field(
        default_factory=list, description="run on rollback if this phase started"
    )
    rollback_decision: PauseChoice | None = Field(
        None,
        description="a choice a person makes when this phase is rolled back, before its "
        "`rollback` actions (`phasegate approve RUN rollback:PHASE/decide --choose OPTION`); "
        "the actions of each way carry `when: vars.VAR == 'option'`",
    )
    on_failure: OnFailure | None = None
    analysis: AnalysisRef | None = Field(
        None,
        description="watched in the background while the phase's steps run (across all its "
        "canary steps); its failure rolls back at once",
    )
    rollback_budget: Duration | None = Field(
        None, description="rollback time allowed when the run fails in this phase"
    )
    monitors: list[Monitor] = Field(
        default_factory=list,
        description="observation commands run beside the phase's steps and gates, ended when "
        "the phase ends; their exit never fails the phase",
    )
    owner: str | None = None
    risk: Risk | None = Field(
        None,
        description="the change risk (none, low, medium, high) the plan's `windows:` rules "
        "are read for; a phase without one counts as high",
    )
    estimate: EstimateHint | None = Field(
        None,
        description="how long this usually takes (`{p50: 2m, p90: 5m}`): the prior of its "
        "duration estimate until the plan's history says more (docs/estimates.md)",
    )
    # -- fleets (docs/fleet.md): the phase's steps run on each selected host, in batches.
    hosts: str | None = Field(
        None,
        description="CEL selector over the plan's `targets:` (name, groups, labels, vars): "
        "the phase's steps run on each selected host, over SSH",
    )
    batch: Batch | None = Field(None, description="batch sizes and mode of a fleet phase")
    max_fail_percentage: float | None = Field(
        None,
        ge=0,
        le=100,
        description="a batch fails the phase when more than this % of its hosts failed "
        "(exceeded, not equaled; default 0)",
    )
    total_fail_budget: int | str | None = Field(
        None, description="failed hosts allowed across all batches (a count or '10%')"
    )
    unreachable: Literal["fail", "ignore", "retry"] | None = Field(
        None,
        description="an unreachable host: counts as failed (default), is ignored, or "
        "is reconnected (targets.ssh.connect_retries) before counting as failed",
    )
    on_batch_all_failed: Literal["budget", "stop", "pause"] | None = Field(
        None,
        description="stop: a batch whose every host failed stops the phase even when "
        "max_fail_percentage is 100; pause: it waits for an approval (default: the budget "
        "decides)",
    )
    pause_between: Duration | None = Field(None, description="wait between batches")
    min_healthy: MinHealthy | None = None
    batch_gates: list[AnyCheck] = Field(
        default_factory=list,
        description="checks run after each batch of a fleet phase has finished, before the "
        "next starts ($PHASEGATE_BATCH, $PHASEGATE_BATCH_HOSTS); one failing fails the phase",
    )
    host_gates: list[AnyCheck] = Field(
        default_factory=list,
        description="checks run for each host after its steps succeeded (${host}, "
        "$PHASEGATE_HOST, $HOST_<LABEL>); one failing fails the host",
    )
    sample: Sample | None = Field(
        None,
        description="a representative canary: the phase runs on a stratified, deterministic "
        "sample of its hosts (docs/fleet.md)",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    run_plan: str | None = Field(
        None,
        description="a program phase: run this child plan (relative to the plan file) as a run "
        "of its own, with its own journal, lock and rollback (docs/programs.md)",
    )
    vars: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="with `run_plan`: the child plan's variables (`${VAR}` of this plan expand)",
    )
    needs_mode: Literal["all", "any"] = Field(
        "all", description="`any`: the phase may start once any one of its `needs` succeeded"
    )
    soak: Duration | None = Field(
        None, description="with `run_plan`: wait this long after the upstream children succeeded"
    )
    ready: Readiness | None = Field(
        None,
        description="with `run_plan`: the child's readiness, evaluated right before it starts; "
        "not ready pauses the program with the blockers",
    )
    go_no_go: GoNoGo | None = Field(
        None,
        description="with `run_plan`: checks and approvers deciding, right before the child "
        "starts, whether it goes (docs/programs.md)",
    )
    lane: str | None = Field(
        None,
        pattern=LANE_NAME,
        description="the lane whose capacity this phase uses: before it starts it takes a "
        "slot (the run is `queued` while the lane is full) and gives it back when the phase "
        "ends; the plan's `lane:` is held for the whole run (docs/lanes.md)",
    )

    @model_validator(mode="after")
    def _program_phase(self) -> Phase:
        if self.run_plan is None:
            given = [n for n in ("soak", "ready", "go_no_go") if getattr(self, n) is not None]
            given += ["vars"] if self.vars else []
            if given:
                listed = ", ".join(f"`{n}`" for n in given)
                raise ValueError(f"{listed} belong to a program phase (one with `run_plan`)")
            return self
        if not self.run_plan.strip():
            raise ValueError("`run_plan` is the path of a child plan, relative to this plan")
        if self.lane is not None:
            raise ValueError(
                "a program phase takes no `lane:`: its child is a run of its own; put "
                f"`lane: {self.lane}` at the top of the child plan"
            )
        own = [n for n in ("steps", "rollback", "monitors") if getattr(self, n)]
        own += ["analysis"] if self.analysis is not None else []
        if own:
            listed = ", ".join(f"`{n}`" for n in own)
            raise ValueError(
                f"a program phase runs its child plan and no commands of its own; this one also "
                f"has {listed}: move them into the child plan, or into a phase of their own"
            )
        return self

    @model_validator(mode="after")
    def _fleet_keys(self) -> Phase:
        if self.hosts is None:
            given = [name for name in FLEET_KEYS if getattr(self, name) is not None]
            given += [n for n in ("batch_gates", "host_gates") if getattr(self, n)]
            if given:
                raise ValueError(
                    f"`{given[0]}` belongs to a fleet phase: add `hosts:` (a selector over "
                    "the plan's targets)"
                )
            return self
        for step in self.steps:
            if step.action != "run":
                raise ValueError(
                    f"a fleet phase runs commands on hosts: step {step.label!r} is a "
                    f"`{step.action}` step"
                )
        if self.analysis is not None:
            raise ValueError("a fleet phase cannot have a background `analysis`")
        return self

    @functools.cached_property
    def _step_ids(self) -> tuple[list[Step], tuple[str, ...]]:
        """``step_ids`` of this phase, worked out once (the engine asks ~10 times per step),
        with the list it was worked out from: a copy with other steps recomputes."""
        return self.steps, _step_ids(self)

    @property
    def is_fleet(self) -> bool:
        return self.hosts is not None

    @field_validator("monitors")
    @classmethod
    def _distinct_monitors(cls, value: list[Monitor]) -> list[Monitor]:
        names = [m.name for m in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"monitor names must be distinct within a phase: {', '.join(twice)}")
        return value

    @field_validator("rollback", mode="before", json_schema_input_type=list[Command | Action])
    @classmethod
    def _normalise_rollback(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_action(v) for v in value]
        return value


FLEET_KEYS = (
    "batch",
    "max_fail_percentage",
    "total_fail_budget",
    "unreachable",
    "on_batch_all_failed",
    "pause_between",
    "min_healthy",
    "sample",
)


def weight_words(weight: int | dict[str, int]) -> str:
    return f"{weight}%" if isinstance(weight, int) else describe_weights(weight)


class Traffic(Model):
    """How canary steps shift traffic: the router and the backends it weighs."""

    router: SerializeAsAny[RouterSpec] | None = Field(
        None, description="one key naming the router kind (command, nginx, haproxy) + options"
    )
    backends: list[Identifier] = Field(
        default_factory=lambda: ["stable", "canary"],
        min_length=2,
        description="the first is the stable backend; `set_weight: N` gives the others N%",
    )
    baseline: dict[Identifier, Weight] | None = Field(
        None, description="weights rollback returns to (default: the first backend 100%)"
    )
    needs_binding: str | None = Field(None, description=NEEDS_BINDING)

    @model_validator(mode="after")
    def _router_or_binding(self) -> Traffic:
        if self.router is None and self.needs_binding is None:
            raise ValueError("give a `router` (or mark the traffic block `needs_binding`)")
        if len(set(self.backends)) != len(self.backends):
            raise ValueError("backends must be distinct")
        return self

    def weights(self, weight: int | dict[str, int]) -> dict[str, int]:
        """A `set_weight` value as a weight per backend."""
        if isinstance(weight, dict):
            return {name: int(weight.get(name, 0)) for name in self.backends}
        rest = self.backends[1:]
        share, extra = divmod(weight, len(rest))
        out = {self.backends[0]: 100 - weight}
        for index, name in enumerate(rest):
            out[name] = share + (1 if index < extra else 0)
        return out

    def baseline_weights(self) -> dict[str, int]:
        if self.baseline is not None:
            return self.weights(dict(self.baseline))
        return self.weights(0)


class Trigger(Model):
    name: Identifier
    description: str | None = None
    needs_binding: str | None = Field(None, description=NEEDS_BINDING)
    check: AnyCheck
    every: Duration = Field(10.0, description="evaluation interval")
    fail_after: int = Field(1, ge=1, description="consecutive failures that trip the trigger")
    initial_delay: Duration = 0.0
    action: Literal["rollback", "pause", "alert"] = "rollback"
    during: list[Identifier] = Field(
        default_factory=list,
        description="watch only while one of these phases runs (default: the whole run)",
    )


LOG_LIMIT = 16 * 1024 * 1024


class Defaults(Model):
    timeout: Duration | None = Field(None, description="default step and check timeout")
    log_limit: ByteSize = Field(
        ByteSize(LOG_LIMIT),
        ge=4096,
        description="bytes of one command attempt's output kept in its log (`16MiB`, `1GiB`, "
        "a number of bytes); past it one line says so, the rest is counted and not kept, and "
        "the command runs on",
    )
    shell: str = Field(
        "bash --noprofile --norc -eo pipefail -c",
        description="how `run` strings are executed; the script is passed as one argument",
    )


class Plan(Model):
    version: Literal[1]
    name: Identifier
    description: str | None = None
    lock: str | None = Field(None, description="lock name; defaults to the plan name")
    lane: str | None = Field(
        None,
        pattern=LANE_NAME,
        description="the lane whose capacity the run uses: it waits (`queued`) for a slot "
        "while the lane is full; caps live in the store (`phasegate lane set`, docs/lanes.md)",
    )
    priority: int = Field(
        0,
        ge=-100,
        le=100,
        description="the run's place in its lanes' queues: each unit is a minute of head "
        "start over runs queued at the same time (`run --priority` overrides; docs/lanes.md)",
    )
    vars: dict[str, VarValue] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    budget: Budget = Field(default_factory=Budget)
    on_failure: OnFailure = "rollback"
    max_parallel: int = Field(4, ge=1, le=256)
    shell_session: bool = Field(
        False,
        description="one terminal for the whole run: variables a step sets or exports, and "
        "its `cd`, carry over to later steps (journalled, secrets as references, restored on "
        "resume); `phasegate import` turns it on",
    )
    traffic: Traffic | None = Field(None, description="the router for `set_weight` steps")
    targets: Targets | None = Field(
        None,
        description="the hosts fleet phases run on: an Ansible inventory (YAML or INI), a "
        "command printing inventory JSON, or an inline list; and how to reach them over SSH",
    )
    analyses: dict[Identifier, Analysis] = Field(
        default_factory=dict, description="named analyses, for steps and phases to refer to"
    )
    triggers: list[Trigger] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    verify_rollback: list[AnyCheck] = Field(default_factory=list)
    notify: Notify | None = Field(
        None,
        description="where run events are sent: channels (Slack, webhook, email, "
        "PagerDuty) and the routes that pick them by event and severity",
    )
    windows: Windows | None = Field(
        None,
        description="change windows: allow/deny rules in a timezone, per risk "
        "(docs/windows.md); or the path of a YAML file holding them, relative to the plan",
    )
    monitor: PostMonitor | None = Field(
        None,
        description="post-rollout monitoring: checks kept running on a schedule after the "
        "forward path succeeded, with an action on failure (docs/monitoring.md)",
    )
    estimate: PlanEstimate = Field(
        default_factory=PlanEstimate,
        description="estimates: the calibration rule (which past runs teach the model) and a "
        "default hint for steps without one (docs/estimates.md)",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    rollback_children: list[Identifier] | None = Field(
        None,
        description="a program: the phases whose child runs are rolled back when the program "
        "fails (default: every child that started)",
    )

    @field_validator("windows", mode="before", json_schema_input_type=Windows | str | None)
    @classmethod
    def _windows_file(cls, value: Any) -> Any:
        if isinstance(value, str):  # the loader replaces a path by the file's rules
            raise ValueError("a windows file is read by the plan loader, relative to the plan file")
        return value

    @model_validator(mode="after")
    def _fleets_have_targets(self) -> Plan:
        fleet = [p.id for p in self.phases if p.hosts is not None]
        if fleet and self.targets is None:
            raise ValueError(
                f"phase {fleet[0]!r} runs on `hosts:` but the plan has no `targets:` "
                "(an inventory, an inventory command, or a list of hosts)"
            )
        if fleet and self.shell_session:
            raise ValueError("fleet phases cannot run in a `shell_session` (one local terminal)")
        return self

    @property
    def lock_name(self) -> str:
        return self.lock or self.name

    def analysis(self, ref: str | Analysis) -> Analysis:
        return self.analyses[ref] if isinstance(ref, str) else ref

    def phase(self, phase_id: str) -> Phase:
        phases = self.phases
        at = self._phase_at.get(phase_id)
        # The index is checked, not trusted: a model_copy with other phases carries it over.
        if at is not None and at < len(phases) and phases[at].id == phase_id:
            return phases[at]
        for phase in phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    @functools.cached_property
    def _phase_at(self) -> dict[str, int]:
        """Where each phase is in ``phases``: the engine asks for a phase by id at each of its
        starts and ends, which was a scan of every phase (quadratic in a chain of phases)."""
        return {phase.id: at for at, phase in enumerate(self.phases)}


def step_ids(phase: Phase) -> list[str]:
    """Stable ids of a phase's steps: explicit id, else slug of the name, else step-N."""
    steps, ids = phase._step_ids
    if steps is not phase.steps:  # a model_copy with other steps carries the copied cache
        ids = _step_ids(phase)
    return list(ids)


def _step_ids(phase: Phase) -> tuple[str, ...]:
    explicit = {step.id for step in phase.steps if step.id}
    ids: list[str] = []
    taken: set[str] = set()
    for index, step in enumerate(phase.steps):
        if step.id:
            ids.append(step.id)
            continue
        if step.name or step.action not in ("run",):
            base = slugify(step.label)  # "set weight 25%" -> set-weight-25
        else:
            base = f"step-{index + 1}"
        candidate, n = base, 1
        while candidate in taken or candidate in explicit:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        ids.append(candidate)
    return tuple(ids)


def gate_ids(checks: list[CheckSpec], prefix: str = "gate") -> list[str]:
    return [c.id or f"{prefix}-{i + 1}" for i, c in enumerate(checks)]


def phase_gates(phase: Phase) -> list[tuple[str, CheckSpec, str | None]]:
    """Every gate of a phase as (id, check, the id of the step it precedes or None for the
    gates after the steps): the steps' ``pre_gates`` in step order, then ``gates``."""
    out: list[tuple[str, CheckSpec, str | None]] = []
    for sid, step in zip(step_ids(phase), phase.steps, strict=True):
        many = len(step.pre_gates) > 1
        for n, check in enumerate(step.pre_gates, 1):
            out.append((check.id or (f"before-{sid}-{n}" if many else f"before-{sid}"), check, sid))
    after = zip(gate_ids(phase.gates), phase.gates, strict=True)
    out += [(gid, check, None) for gid, check in after]
    return out
