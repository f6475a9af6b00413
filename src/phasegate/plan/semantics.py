"""Checks a plan model cannot express: ids, the dependency graph, variables, expressions."""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any

from phasegate.errors import Problem
from phasegate.expr import ExprError, compile_expr
from phasegate.plan.model import Plan
from phasegate.plan.variables import BUILTINS, NAME, references, shell_locals
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.suggest import did_you_mean


def validate(plan: Plan, data: dict[str, Any], smap: SourceMap) -> tuple[list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    _ids(plan, smap, problems, warnings)
    _graph(plan, smap, problems)
    _variables(plan, data, smap, problems)
    _expressions(plan, smap, problems)
    _shells(plan, smap, problems)
    return problems, warnings


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
        explicit = Counter(step.id for step in phase.steps if step.id)
        for s_index, step in enumerate(phase.steps):
            if step.id and explicit[step.id] > 1:
                problems.append(
                    smap.problem(
                        ("phases", index, "steps", s_index, "id"),
                        f"duplicate step id {step.id!r} in phase {phase.id!r}",
                        hint="step ids must be unique within a phase",
                    )
                )
                explicit[step.id] = 0  # report each duplicate once
        if not phase.steps and not phase.gates:
            warnings.append(
                smap.problem(("phases", index), f"phase {phase.id!r} has no steps and no gates")
            )
    names = Counter(t.name for t in plan.triggers)
    for index, trigger in enumerate(plan.triggers):
        if names[trigger.name] > 1:
            problems.append(
                smap.problem(
                    ("triggers", index, "name"), f"duplicate trigger name {trigger.name!r}"
                )
            )
            names[trigger.name] = 0
    check_ids: dict[str, Path_] = {}
    for path, check in _all_checks(plan):
        if check.id is None:
            continue
        if check.id in check_ids:
            problems.append(
                smap.problem(
                    (*path, "id"),
                    f"duplicate check id {check.id!r}",
                    hint="check ids name results in expressions (checks.<id>); make them unique",
                )
            )
        else:
            check_ids[check.id] = path


def _all_checks(plan: Plan) -> list[tuple[Path_, Any]]:
    out: list[tuple[Path_, Any]] = []
    for p_index, phase in enumerate(plan.phases):
        for g_index, gate in enumerate(phase.gates):
            out.append((("phases", p_index, "gates", g_index), gate))
    for t_index, trigger in enumerate(plan.triggers):
        out.append((("triggers", t_index, "check"), trigger.check))
    for v_index, check in enumerate(plan.verify_rollback):
        out.append((("verify_rollback", v_index), check))
    return out


def _graph(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    ids = [p.id for p in plan.phases]
    known = set(ids)
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
                        hint=did_you_mean(need, known),
                    )
                )
    edges = {p.id: [n for n in p.needs if n in known and n != p.id] for p in plan.phases}
    cycle = find_cycle(edges)
    if cycle:
        index = ids.index(cycle[0])
        problems.append(
            smap.problem(
                ("phases", index, "needs"),
                "phases depend on each other in a cycle: " + " -> ".join(cycle),
                hint="remove one of these needs so that the phases form a DAG",
            )
        )


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """Return one dependency cycle as [a, b, ..., a], or None."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(edges, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        color[node] = grey
        stack.append(node)
        for nxt in edges.get(node, []):
            if color.get(nxt) == grey:
                return [*stack[stack.index(nxt) :], nxt]
            if color.get(nxt) == white:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        color[node] = black
        return None

    for node in edges:
        if color[node] == white:
            found = visit(node)
            if found:
                return found
    return None


def _variables(
    plan: Plan, data: dict[str, Any], smap: SourceMap, problems: list[Problem]
) -> None:
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

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))
        elif isinstance(value, str) and "${" in value:
            local = shell_locals(value) if path and path[-1] in ("run", "command") else set()
            for name in references(value):
                if name not in defined and name not in local:
                    problems.append(
                        smap.problem(
                            path,
                            f"undefined variable ${{{name}}}",
                            hint=(did_you_mean(name, defined) or "")
                            + f" declare it under `vars:`, or write $${{{name}}} for a literal",
                        )
                    )

    walk(_plain(data), ())


def _plain(value: Any) -> Any:
    """The raw document with validated check specs turned back into mappings."""
    from phasegate.checks.base import CheckSpec

    if isinstance(value, CheckSpec):
        return value.model_dump(exclude_defaults=True, by_alias=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _expressions(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    for p_index, phase in enumerate(plan.phases):
        for s_index, step in enumerate(phase.steps):
            if step.when is not None:
                _compile(step.when, ("phases", p_index, "steps", s_index, "when"), smap, problems)
    for path, check in _all_checks(plan):
        for field_name, expression in check.expressions():
            _compile(expression, (*path, field_name), smap, problems)


def _compile(text: str, path: Path_, smap: SourceMap, problems: list[Problem]) -> None:
    try:
        compile_expr(text)
    except ExprError as exc:
        problems.append(smap.problem(path, f"invalid CEL expression: {exc}", hint=exc.hint))


def _shells(plan: Plan, smap: SourceMap, problems: list[Problem]) -> None:
    try:
        if not shlex.split(plan.defaults.shell):
            raise ValueError("empty")
    except ValueError:
        problems.append(
            smap.problem(("defaults", "shell"), "defaults.shell is not a valid command line")
        )
