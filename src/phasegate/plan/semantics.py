"""Checks a plan model cannot express: ids, the dependency graph, variables, expressions."""

from __future__ import annotations

import shlex
from typing import Any

from phasegate.checks.base import CheckSpec
from phasegate.errors import Problem
from phasegate.expr import ExprError, cel_detail, compile_expr
from phasegate.plan import secret_use
from phasegate.plan.analysis import Analysis
from phasegate.plan.model import PauseChoice, Plan, step_ids
from phasegate.plan.yamlsource import Path_, SourceMap, format_path
from phasegate.substitution import BUILTINS, NAME, references, shell_locals
from phasegate.suggest import close_match, did_you_mean


def validate(
    plan: Plan, data: dict[str, Any], smap: SourceMap
) -> tuple[list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    _ids(plan, smap, problems, warnings)
    _graph(plan, smap, problems)
    _variables(plan, data, smap, problems)
    _expressions(plan, smap, problems)
    _shells(plan, smap, problems)
    _traffic(plan, smap, problems)
    _session_shell(plan, smap, warnings)
    _monitor_triggers(plan, smap, problems)
    _fleet_gate_kinds(plan, smap, problems)
    _read_on(plan, smap, problems)
    _resource_hints(plan, smap, problems)
    warnings += secret_use.check(plan, _plain(data), smap, problems)
    return problems, warnings


ROUTER_VARIABLES = ("WEIGHT", "WEIGHTS")


def _resource_hints(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    """A resource budget's ``estimate:`` names steps by key (PHASE/STEP): each must exist."""
    keys = [f"{p.id}/{sid}" for p in plan.phases for sid in step_ids(p)]
    for name, spec in plan.budget.resources.items():
        for key in spec.estimate:
            if key in keys:
                continue
            problems.append(
                smap.problem(
                    ("budget", "resources", name, "estimate", key),
                    f"resource budget {name!r} hints step {key!r}, which the plan does not have",
                    hint=did_you_mean(key, keys) or "keys are PHASE/STEP ids",
                )
            )


def _traffic(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    traffic = plan.traffic
    if traffic is not None and traffic.baseline is not None:
        _weights(dict(traffic.baseline), traffic.backends, ("traffic", "baseline"), smap, problems)
    for index, phase in enumerate(plan.phases):
        if phase.analysis is not None:
            _analysis_ref(plan, phase.analysis, ("phases", index, "analysis"), smap, problems)
        for s_index, step in enumerate(phase.steps):
            path: Path_ = ("phases", index, "steps", s_index)
            if step.analysis is not None:
                _analysis_ref(plan, step.analysis, (*path, "analysis"), smap, problems, True)
            if step.action not in ("set_weight", "promote"):
                continue
            path = (*path, step.action)
            if traffic is None:
                problems.append(
                    smap.problem(
                        path,
                        f"`{step.action}` needs a router, and the plan has no `traffic:` block",
                        hint="add `traffic: {router: {command: ./set-weight.sh}}` at the top level",
                    )
                )
            elif isinstance(step.set_weight, dict):
                _weights(dict(step.set_weight), traffic.backends, path, smap, problems)


def _analysis_ref(
    plan: Plan,
    ref: str | Analysis,
    path: Path_,
    smap: SourceMap,
    problems: list[Problem],
    inline: bool = False,
) -> None:
    if isinstance(ref, str) and ref not in plan.analyses:
        problems.append(
            smap.problem(
                path,
                f"no analysis named {ref!r}",
                hint=_guess(ref, set(plan.analyses), "analyses (top-level `analyses:`)"),
            )
        )
        return
    analysis = plan.analysis(ref)
    if inline and analysis.count is None:
        problems.append(
            smap.problem(
                path,
                "an `analysis` step needs `count` (how many measurements decide it); without "
                "one an analysis runs until stopped, which only a phase's background analysis is",
                hint="add `count: 5` to the analysis, or move it to the phase (`analysis:` "
                "beside `steps:`) to watch in the background",
            )
        )


def _weights(
    weights: dict[str, int],
    backends: list[str],
    path: Path_,
    smap: SourceMap,
    problems: list[Problem],
) -> None:
    unknown = [name for name in weights if name not in backends]
    if unknown:
        problems.append(
            smap.problem(
                (*path, unknown[0]),
                f"unknown backend {unknown[0]!r}",
                hint=_guess(unknown[0], set(backends), "backends (traffic.backends)"),
                key=True,
            )
        )
    elif sum(weights.values()) != 100:
        problems.append(
            smap.problem(
                path,
                f"weights add up to {sum(weights.values())}%, not 100%",
                hint="give every backend its share; the shares must add up to 100",
            )
        )


def _ids(plan: Plan, smap: SourceMap, problems: list[Problem], warnings: list[Problem]) -> None:
    seen: dict[str, int] = {}
    for index, phase in enumerate(plan.phases):
        if phase.id in seen:
            problems.append(
                smap.problem(
                    ("phases", index, "id"),
                    f"duplicate phase id {phase.id!r} (first used by phases[{seen[phase.id]}])",
                    hint="phase ids must be unique; rename one",
                )
            )
        else:
            seen[phase.id] = index
        step_seen: dict[str, int] = {}
        for s_index, step in enumerate(phase.steps):
            if not step.id:
                continue
            if step.id in step_seen:
                problems.append(
                    smap.problem(
                        ("phases", index, "steps", s_index, "id"),
                        f"duplicate step id {step.id!r} in phase {phase.id!r} (first used by "
                        f"steps[{step_seen[step.id]}])",
                        hint="step ids must be unique within a phase; rename one",
                    )
                )
            else:
                step_seen[step.id] = s_index
        if not phase.steps and not phase.gates and phase.run_plan is None:
            warnings.append(
                smap.problem(("phases", index), f"phase {phase.id!r} has no steps and no gates")
            )
    trigger_seen: dict[str, int] = {}
    for index, trigger in enumerate(plan.triggers):
        if trigger.name in trigger_seen:
            problems.append(
                smap.problem(
                    ("triggers", index, "name"),
                    f"duplicate trigger name {trigger.name!r} (first used by "
                    f"triggers[{trigger_seen[trigger.name]}])",
                    hint="trigger names must be unique; rename one",
                )
            )
        else:
            trigger_seen[trigger.name] = index
    check_ids: dict[str, Path_] = {}
    for path, check in _all_checks(plan):
        if check.id is None:
            continue
        if check.id in check_ids:
            problems.append(
                smap.problem(
                    (*path, "id"),
                    f"duplicate check id {check.id!r} (first used by "
                    f"{format_path(check_ids[check.id])})",
                    hint="check ids name results in expressions (checks.<id>) and approvals; "
                    "make them unique across the plan",
                )
            )
        else:
            check_ids[check.id] = path


def _monitor_triggers(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    """``monitor.triggers`` name triggers the plan declares; no ``manual`` check is
    monitored."""
    if plan.monitor is None:
        return
    for index, check in enumerate(plan.monitor.checks):
        if check.kind == "manual":
            problems.append(
                smap.problem(
                    ("monitor", "checks", index),
                    "a manual check cannot be monitored: nobody is asked at each scheduled time",
                    hint="check what the person would look at (http, command, metric…)",
                )
            )
    names = {t.name for t in plan.triggers}
    for index, name in enumerate(plan.monitor.triggers):
        if name not in names:
            problems.append(
                smap.problem(
                    ("monitor", "triggers", index),
                    f"monitor.triggers names {name!r}, which is not one of the plan's triggers",
                    hint=_guess(name, names, "trigger")
                    if names
                    else "declare it under `triggers:`, or write the check under monitor.checks",
                )
            )


def _fleet_gate_kinds(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    """A fleet phase's ``host_gates`` and ``batch_gates`` are judged per host and per batch,
    unattended (engine/fleet_gates.py): a ``manual`` check there would ask nobody and fail
    every host."""
    for p_index, phase in enumerate(plan.phases):
        for field in ("host_gates", "batch_gates"):
            for g_index, check in enumerate(getattr(phase, field)):
                if check.kind == "manual":
                    per = "host" if field == "host_gates" else "batch"
                    problems.append(
                        smap.problem(
                            ("phases", p_index, field, g_index),
                            f"a manual check cannot be one of {field}: it would be judged for "
                            f"each {per} with nobody asked",
                            hint="put it in the phase's `gates:` (asked once, after every "
                            "batch) or a `pause:` step, or check what the person would look "
                            "at (http, command, metric…)",
                        )
                    )


def _read_on(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    """``on:`` (where a ``file`` or ``kpi`` check reads: the host or the controller) means
    something only for a fleet phase's host gate; anywhere else it is refused, located."""
    found = list(_all_checks(plan))
    for p_index, phase in enumerate(plan.phases):
        for field in ("ready", "go_no_go"):
            block = getattr(phase, field)
            for c_index, item in enumerate(block.checks if block is not None else []):
                inner = getattr(item, "check", item)
                here: Path_ = ("phases", p_index, field, "checks", c_index)
                found.append(((*here, "check") if inner is not item else here, inner))
    for path, check in found:
        where = getattr(check, "on", None)
        if where is None or _host_gate(path):
            continue
        problems.append(
            smap.problem(
                (*path, "on"),
                f"`on: {where}` is only for a fleet phase's host_gates (where a {check.kind} "
                "check reads: on the host or on the controller); elsewhere it always reads "
                "this machine's files",
                hint="remove `on:`, or move the check to the phase's host_gates",
                key=True,
            )
        )


def _all_checks(plan: Plan) -> list[tuple[Path_, Any]]:
    out: list[tuple[Path_, Any]] = []
    for p_index, phase in enumerate(plan.phases):
        for s_index, step in enumerate(phase.steps):
            for g_index, gate in enumerate(step.pre_gates):
                out.append((("phases", p_index, "steps", s_index, "pre_gates", g_index), gate))
        for g_index, gate in enumerate(phase.gates):
            out.append((("phases", p_index, "gates", g_index), gate))
        for g_index, gate in enumerate(phase.batch_gates):
            out.append((("phases", p_index, "batch_gates", g_index), gate))
        for g_index, gate in enumerate(phase.host_gates):
            out.append((("phases", p_index, "host_gates", g_index), gate))
    for t_index, trigger in enumerate(plan.triggers):
        out.append((("triggers", t_index, "check"), trigger.check))
    for v_index, check in enumerate(plan.verify_rollback):
        out.append((("verify_rollback", v_index), check))
    if plan.monitor is not None:
        for m_index, check in enumerate(plan.monitor.checks):
            out.append((("monitor", "checks", m_index), check))
    return out


def _graph(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    ids = [p.id for p in plan.phases]
    known = set(ids)
    for t_index, trigger in enumerate(plan.triggers):
        for d_index, phase_id in enumerate(trigger.during):
            if phase_id not in known:
                problems.append(
                    smap.problem(
                        ("triggers", t_index, "during", d_index),
                        f"trigger {trigger.name!r} watches during unknown phase {phase_id!r}",
                        hint=_guess(phase_id, known, "phases"),
                    )
                )
    for index, phase in enumerate(plan.phases):
        for n_index, need in enumerate(phase.needs):
            if need == phase.id:
                problems.append(
                    smap.problem(
                        ("phases", index, "needs", n_index),
                        f"phase {phase.id!r} needs itself",
                        hint="remove it from its own needs",
                    )
                )
            elif need not in known:
                problems.append(
                    smap.problem(
                        ("phases", index, "needs", n_index),
                        f"phase {phase.id!r} needs unknown phase {need!r}",
                        hint=_guess(need, known, "phase ids"),
                    )
                )
    edges = {p.id: [n for n in p.needs if n in known and n != p.id] for p in plan.phases}
    cycle = find_cycle(edges)
    if cycle:
        index = ids.index(cycle[0])
        n_index = plan.phases[index].needs.index(cycle[1])
        problems.append(
            smap.problem(
                ("phases", index, "needs", n_index),
                "phases need each other in a cycle: " + " -> ".join(cycle),
                hint=f"each phase in the cycle needs the next; remove one of these needs "
                f"(e.g. {cycle[1]!r} from phase {cycle[0]!r}) so the phases form a DAG",
            )
        )


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle of the graph as [a, b, ..., a] (a -> b: a has an edge to b), or None.

    Iterative depth-first search, so that a plan with thousands of chained phases cannot
    exhaust Python's stack.
    """
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(edges.get(start, []))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt in done or nxt not in edges:
                continue
            path.append(nxt)
            on_path.add(nxt)
            pending.append(iter(edges[nxt]))
    return None


def _variables(plan: Plan, data: dict[str, Any], smap: SourceMap, problems: list[Problem]) -> None:
    defined = set(plan.vars) | set(BUILTINS)
    for name in plan.vars:
        if not NAME.match(name):
            problems.append(
                smap.problem(
                    ("vars", name),
                    f"variable name {name!r} is not a valid identifier",
                    hint="use letters, digits and _ (it becomes an environment variable)",
                    key=True,
                )
            )
        elif name in BUILTINS:
            problems.append(
                smap.problem(
                    ("vars", name), f"{name!r} is a built-in variable", hint="rename it", key=True
                )
            )

    refs = {
        name: [r for r in references(_var_text(spec)) if r in plan.vars and NAME.match(name)]
        for name, spec in plan.vars.items()
    }
    cycle = find_cycle(refs)
    if cycle:
        problems.append(
            smap.problem(
                _var_path(plan, cycle[0]),
                "variables refer to each other in a cycle: "
                + " -> ".join(f"${{{n}}}" for n in cycle),
                hint="one of them must be a plain value",
            )
        )

    # One terminal for the run (shell_session): what any command assigns is the session's.
    session = _session_locals(data) if plan.shell_session else set()

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))
        elif isinstance(value, str) and "${" in value:
            command = bool(path) and path[-1] in ("run", "command")
            local = (shell_locals(value) | session) if command else set()
            router = path[:2] == ("traffic", "router")
            for name in references(value):
                if router and (name in ROUTER_VARIABLES or name.startswith("WEIGHT_")):
                    continue
                if _host_gate(path) and (name in HOST_VARIABLES or name.startswith("HOST_")):
                    continue  # a fleet host gate's own host (engine/fleet_gates.py)
                if name not in defined and name not in local:
                    guess = close_match(name, defined)
                    fix = (
                        f"declare it under `vars:`, or write $${{{name}}} for a literal ${{{name}}}"
                    )
                    problems.append(
                        smap.problem(
                            path,
                            f"undefined variable ${{{name}}}",
                            hint=f"did you mean ${{{guess}}}? Otherwise {fix}" if guess else fix,
                        )
                    )

    walk(_plain(data), ())
    _decisions(plan, smap, problems)


HOST_VARIABLES = ("host", "PHASEGATE_HOST")


def _host_gate(path: Path_) -> bool:
    return len(path) > 2 and path[0] == "phases" and path[2] == "host_gates"


def _decisions(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    """A decision's variable is a declared, non-secret plan variable: the choice is written
    into the journal and shown by status, and a `when:` reads it as `vars.NAME`."""
    found: list[tuple[PauseChoice, Path_]] = []
    for p_index, phase in enumerate(plan.phases):
        for s_index, step in enumerate(phase.steps):
            choose = step.pause.choose if step.pause is not None else None
            if choose is not None:
                path: Path_ = ("phases", p_index, "steps", s_index, "pause", "choose", "var")
                found.append((choose, path))
        if phase.rollback_decision is not None:  # asked when the phase is rolled back
            found.append((phase.rollback_decision, ("phases", p_index, "rollback_decision", "var")))
    for choose, path in found:
        spec = plan.vars.get(choose.var)
        if spec is None:
            problems.append(
                smap.problem(
                    path,
                    f"the decision's variable {choose.var!r} is not declared",
                    hint=f"declare it under `vars:` (e.g. `{choose.var}: {{default: ''}}`)",
                )
            )
        elif getattr(spec, "secret", False):
            problems.append(
                smap.problem(
                    path,
                    f"the decision's variable {choose.var!r} is secret",
                    hint="a choice is journalled and shown: use a plain variable",
                )
            )
        if len(set(choose.options)) != len(choose.options):
            problems.append(
                smap.problem(
                    (*path[:-1], "options"),
                    "a decision's options must be distinct",
                    hint="remove the repeated option",
                )
            )


def _session_shell(plan: Plan, smap: SourceMap, warnings: list[Problem]) -> None:
    """shell_session carries what bash scripts change; with another shell nothing carries."""
    program = (plan.defaults.shell.split() or [""])[0]
    if plan.shell_session and program.rsplit("/", 1)[-1] != "bash":
        warnings.append(
            smap.problem(
                ("defaults", "shell"),
                f"shell_session needs bash: with {program!r}, commands inherit the session "
                "but their variables and `cd` do not carry to later steps",
                hint="use the default shell (bash --noprofile --norc -eo pipefail -c)",
            )
        )


def _session_locals(data: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        for key, child in data.items():
            if key == "run" and isinstance(child, str):
                found |= shell_locals(child)
            else:
                found |= _session_locals(child)
    elif isinstance(data, list):
        for child in data:
            found |= _session_locals(child)
    return found


def _var_text(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    value = getattr(spec, "value", None) or getattr(spec, "default", None)
    return value if isinstance(value, str) else ""


def _var_path(plan: Plan, name: str) -> Path_:
    spec = plan.vars[name]
    if isinstance(spec, str):
        return ("vars", name)
    return ("vars", name, "value" if getattr(spec, "value", None) is not None else "default")


def _guess(word: str, choices: set[str], what: str) -> str:
    guess = close_match(word, choices)
    if guess is not None:
        return f"did you mean {guess!r}?"
    return f"{what}: {', '.join(sorted(choices))}" if choices else f"there are no {what}"


def _plain(value: Any) -> Any:
    """The raw document with validated check specs turned back into mappings."""
    if isinstance(value, CheckSpec):
        return value.model_dump(exclude_defaults=True, by_alias=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _expressions(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    for p_index, phase in enumerate(plan.phases):
        if phase.hosts is not None:
            _compile(phase.hosts, ("phases", p_index, "hosts"), smap, problems)
        if phase.sample is not None and phase.sample.risk is not None:
            _compile(phase.sample.risk, ("phases", p_index, "sample", "risk"), smap, problems)
        for s_index, step in enumerate(phase.steps):
            if step.when is not None:
                _compile(step.when, ("phases", p_index, "steps", s_index, "when"), smap, problems)
            if step.undo is not None and step.undo.when is not None:
                path: Path_ = ("phases", p_index, "steps", s_index, "undo", "when")
                _compile(step.undo.when, path, smap, problems)
        for r_index, action in enumerate(phase.rollback):
            if action.when is not None:
                path = ("phases", p_index, "rollback", r_index, "when")
                _compile(action.when, path, smap, problems)
    for path, check in _all_checks(plan):
        for field_name, expression in check.expressions():
            _compile(expression, (*path, field_name), smap, problems)


def _compile(text: str, path: Path_, smap: SourceMap, problems: list[Problem]) -> None:
    try:
        compile_expr(text)
    except ExprError as exc:
        problems.append(
            smap.problem(
                path,
                f"invalid CEL expression {_shown(text)}: {cel_detail(exc.message)}",
                hint=exc.hint,
            )
        )


def _shown(text: str) -> str:
    """The expression as quoted in an error: a huge one is cut, not pasted whole."""
    return repr(text) if len(text) <= 120 else repr(text[:100]) + f" … ({len(text)} characters)"


def _shells(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    try:
        if not shlex.split(plan.defaults.shell):
            raise ValueError("empty")
    except ValueError:
        problems.append(
            smap.problem(("defaults", "shell"), "defaults.shell is not a valid command line")
        )
