"""Verbs about plans: validate, plan (dry-run preview), schema."""

from __future__ import annotations

from typing import Any

import click

from phasegate.cli.common import emit_json, json_option, parse_vars, var_option


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
def validate(plan_file: str, variables: tuple[str, ...], as_json: bool) -> None:
    """Check PLAN_FILE: syntax, schema, ids, dependency cycles, variables, expressions.

    Exit 0 when valid (warnings are printed), 2 with every problem located by file:line:col.
    """
    from phasegate.errors import PlanError
    from phasegate.plan.loader import load_plan
    from phasegate.plan.variables import VariableError, resolve

    try:
        loaded = load_plan(plan_file)
    except PlanError as exc:
        if as_json:
            emit_json({"valid": False, "problems": [p.as_dict() for p in exc.problems]})
            raise click.exceptions.Exit(2) from None
        raise
    warnings = [w.as_dict() for w in loaded.warnings]
    try:
        resolve(loaded.plan, parse_vars(variables), _dummy_builtins(), allow_unset_env=True)
    except VariableError as exc:
        from phasegate.errors import UsageError

        if as_json:
            emit_json(
                {
                    "valid": False,
                    "problems": [
                        {"message": str(exc), "field": f"vars.{exc.name}", "hint": exc.hint}
                    ],
                }
            )
            raise click.exceptions.Exit(2) from None
        raise UsageError(str(exc), hint=exc.hint) from None
    plan = loaded.plan
    steps = sum(len(p.steps) for p in plan.phases)
    gates = sum(len(p.gates) for p in plan.phases)
    if as_json:
        emit_json(
            {
                "valid": True,
                "plan": plan.name,
                "phases": len(plan.phases),
                "steps": steps,
                "gates": gates,
                "triggers": len(plan.triggers),
                "warnings": warnings,
            }
        )
        return
    for warning in loaded.warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning.render(), err=True)
    click.echo(
        f"{plan_file}: valid — plan {plan.name}: {len(plan.phases)} phases, "
        f"{steps} steps, {gates} gates, {len(plan.triggers)} triggers"
    )


def _dummy_builtins() -> dict[str, str]:
    from phasegate.plan.variables import BUILTINS

    return {name: f"<{name}>" for name in BUILTINS}


@click.command("plan")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
def plan_cmd(plan_file: str, variables: tuple[str, ...], as_json: bool) -> None:
    """Preview what `phasegate run PLAN_FILE` would do, in order, without running anything."""
    from phasegate.plan.loader import load_plan
    from phasegate.plan.preview import preview

    loaded = load_plan(plan_file)
    data = preview(loaded, parse_vars(variables))
    if as_json:
        emit_json(data)
        return
    _print_preview(data)


def _print_preview(data: dict[str, Any]) -> None:
    click.echo(f"plan {data['name']} ({data['file']})")
    if data["vars"]:
        click.echo("vars:")
        for name, value in data["vars"].items():
            click.echo(f"  {name} = {value}")
    for number, wave in enumerate(data["waves"], start=1):
        click.echo(
            f"wave {number}: {', '.join(wave)}" + ("  (concurrent)" if len(wave) > 1 else "")
        )
    for phase in data["phases"]:
        needs = f" (needs {', '.join(phase['needs'])})" if phase["needs"] else ""
        click.echo(click.style(f"\n▶ phase {phase['id']}{needs}", fg="cyan"))
        for step in phase["steps"]:
            flags = [f for f in ("idempotent", "continue_on_error") if step.get(f)]
            extra = f"  [{', '.join(flags)}]" if flags else ""
            when = f"  when {step['when']}" if step.get("when") else ""
            click.echo(f"  step {step['id']}: {step['command']}{when}{extra}")
            if step.get("undo"):
                click.echo(f"       undo: {step['undo']}")
        for gate in phase["gates"]:
            click.echo(f"  gate {gate['id']}: {gate['description']} — {gate['expectation']}")
        for action in phase["rollback"]:
            click.echo(f"  rollback: {action}")
    if data["triggers"]:
        click.echo("\ntriggers:")
        for trigger in data["triggers"]:
            click.echo(
                f"  {trigger['name']}: {trigger['description']} every "
                f"{trigger['every']}s, fail after {trigger['fail_after']} -> "
                f"{trigger['action']}"
            )
    click.echo(
        f"\non failure: {data['on_failure']}; rollback budget: "
        f"{data['budget']['rollback'] or 'none'}"
    )


@click.command()
def schema() -> None:
    """Print the JSON Schema of plan files (for editor autocompletion and validation)."""
    from phasegate.plan.schema import plan_json_schema

    emit_json(plan_json_schema())
