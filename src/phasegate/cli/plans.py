"""Verbs about plans: validate, plan (dry-run preview), schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar

import click

from phasegate.cli.common import emit_json, json_option, parse_vars, var_option
from phasegate.cli.policy import policies_option

if TYPE_CHECKING:
    from phasegate.plan.preview import GateView, PostMonitorView, PreviewDoc

F = TypeVar("F", bound=Callable[..., Any])


def require_checked_option(what: str) -> Callable[[F], F]:
    return click.option("--require-checked", is_flag=True, help=what)


class ValidateJson(TypedDict):
    """``validate --json``."""

    valid: bool
    executable: bool  # no `needs_binding` left and no doubt about an import
    blockers: list[dict[str, str | int | None]]  # plan/blockers.py Blocker.as_dict
    plan: str
    phases: int
    steps: int
    gates: int
    triggers: int
    warnings: list[dict[str, str | int | None]]  # Problem.as_dict
    not_executable: NotRequired[list[str]]  # a Markdown document: the import's reasons
    policy_violations: NotRequired[list[dict[str, str | int | None]]]
    admitted: NotRequired[bool]  # the policy pack admits it (no hard or soft violation)


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
@require_checked_option(
    "Every unchecked manual check is a problem (`run --require-checked` would fail it)."
)
@policies_option
@click.pass_context
def validate(
    ctx: click.Context,
    plan_file: str,
    variables: tuple[str, ...],
    as_json: bool,
    require_checked: bool,
    policies: str | None,
) -> None:
    """Check PLAN_FILE: syntax, schema, ids, dependency cycles, variables, expressions.

    Exit 0 when valid (warnings are printed), 2 with every problem located by file:line:col.
    A valid plan that still has `needs_binding` entries (what an imported document did not
    say) is listed as not executable as written, and exits 2 too. A Markdown document whose
    import has a low-confidence mapping that would run, or that runs nothing, is listed as not
    executable as written too, but exits 0: it can run once a person has reviewed it.
    With --require-checked, every unchecked manual check is a problem too.
    With --policies DIR (or $PHASEGATE_POLICIES), the pack's violations are listed, each
    with its policy, level and file:line:col; a hard one exits 2 (soft ones need an
    override to run, advisory ones are reported).
    """
    from pathlib import Path

    from phasegate.errors import PlanError
    from phasegate.plan.blockers import blockers
    from phasegate.plan.loader import MARKDOWN_SUFFIXES, load_plan
    from phasegate.plan.variables import VariableError, resolve

    doubts: list[str] = []  # why an imported document is not executable as written
    try:
        if Path(plan_file).suffix.lower() in MARKDOWN_SUFFIXES:
            from phasegate.cli.review import import_document

            imported = import_document(plan_file)
            loaded = imported.loaded
            # the import's own verdict, less what blockers() below says again (issue 11 §12)
            report = imported.result.report
            doubts = [r for r in report.get("not_executable") or [] if " to bind " not in r]
        else:
            loaded = load_plan(plan_file)
    except PlanError as exc:
        if as_json:
            emit_json({"valid": False, "problems": [p.as_dict() for p in exc.problems]})
            raise click.exceptions.Exit(2) from None
        raise
    if require_checked:
        _refuse_unchecked(loaded, as_json)
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
    gates = sum(len(p.gates) + sum(len(s.pre_gates) for s in p.steps) for p in plan.phases)
    unbound = blockers(loaded)
    if as_json:
        shown: ValidateJson = {
            "valid": True,
            "executable": not unbound and not doubts,
            "blockers": [b.as_dict() for b in unbound],
            "plan": plan.name,
            "phases": len(plan.phases),
            "steps": steps,
            "gates": gates,
            "triggers": len(plan.triggers),
            "warnings": warnings,
        }
        if loaded.source_sha256 is not None:  # a Markdown document: the import's reasons
            shown["not_executable"] = doubts
        verdict = _policy_verdict(ctx, loaded, policies)
        if verdict is not None:
            shown["policy_violations"] = [v.as_dict() for v in verdict.violations]
            shown["admitted"] = not verdict.hard and not verdict.soft
        emit_json(shown)
        if unbound or (verdict is not None and verdict.hard):
            raise click.exceptions.Exit(2)
        return
    for warning in loaded.warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning.render(), err=True)
    from phasegate.words import plural

    click.echo(
        f"{plan_file}: valid — plan {plan.name}: {plural(len(plan.phases), 'phase')}, "
        f"{plural(steps, 'step')}, {plural(gates, 'gate')}, "
        f"{plural(len(plan.triggers), 'trigger')}"
    )
    if doubts:
        click.echo(
            click.style("not executable as written", fg="red") + ": " + "; ".join(doubts),
            err=True,
        )
    verdict = _policy_verdict(ctx, loaded, policies)
    if verdict is not None:
        from phasegate.cli.policy import print_violations

        print_violations(verdict)
        if verdict.hard:
            click.echo(
                click.style("refused by policy", fg="red")
                + f": {plural(len(verdict.hard), 'hard violation')}",
                err=True,
            )
        elif verdict.soft:
            names = sorted({v.policy for v in verdict.soft})
            click.echo(
                f"runs only with an override: --override-policy {' --override-policy '.join(names)}"
                " --reason TEXT",
                err=True,
            )
    if unbound:
        click.echo(
            click.style("not executable as written", fg="red")
            + f": {plural(len(unbound), 'thing')} to bind first:",
            err=True,
        )
        for blocker in unbound:
            click.echo("  " + blocker.render(plan_file), err=True)
        raise click.exceptions.Exit(2)
    if verdict is not None and verdict.hard:
        raise click.exceptions.Exit(2)


def _policy_verdict(ctx: click.Context, loaded: Any, policies: str | None) -> Any:
    from phasegate.cli.policy import chosen_pack

    pack = chosen_pack(ctx, policies)
    return None if pack is None else pack.evaluate(loaded)


def _refuse_unchecked(loaded: Any, as_json: bool) -> None:
    import dataclasses

    from phasegate.errors import PlanError
    from phasegate.plan.preview import unchecked_manual_checks

    problems = [
        loaded.smap.problem(
            found["path"],
            f"manual check {found['name']!r} ({found['key']}) is not checked",
            hint="tick it in the document ([x]) or set `checked: true` once it is confirmed; "
            "`run --require-checked` fails this gate",
        )
        for found in unchecked_manual_checks(loaded.plan)
    ]
    if loaded.source_sha256 is not None:
        # Imported from Markdown: the positions are in the imported YAML, not the document.
        problems = [dataclasses.replace(p, line=None, column=None) for p in problems]
    if not problems:
        return
    if as_json:
        emit_json({"valid": False, "problems": [p.as_dict() for p in problems]})
        raise click.exceptions.Exit(2)
    raise PlanError(problems)


def _dummy_builtins() -> dict[str, str]:
    from phasegate.substitution import BUILTINS

    return {name: f"<{name}>" for name in BUILTINS}


@click.command("plan")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@var_option
@json_option
@require_checked_option("Mark the unchecked manual checks that `run --require-checked` would fail.")
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    help="Preview the change windows for a run started at this ISO 8601 time with an offset "
    "(e.g. 2026-12-07T09:00-05:00): which phases would wait, for which rule, until when.",
)
@click.pass_context
def plan_cmd(
    ctx: click.Context,
    plan_file: str,
    variables: tuple[str, ...],
    as_json: bool,
    require_checked: bool,
    at_text: str | None,
) -> None:
    """Preview what `phasegate run PLAN_FILE` would do, in order, without running anything,
    with the run's estimated duration (ETA) from the journal's history of the plan."""
    from phasegate.cli.estimate import eta, try_history
    from phasegate.plan.loader import load_plan
    from phasegate.plan.preview import preview

    loaded = load_plan(plan_file)
    data = preview(loaded, parse_vars(variables), require_checked=require_checked)
    if at_text is not None:
        from phasegate.cli.plan_windows import windows_at

        data["windows_at"] = windows_at(loaded.plan, at_text, try_history(ctx, loaded.plan))
    data["eta"] = eta(ctx, loaded.plan)
    if as_json:
        emit_json(data)
        return
    _print_preview(data)
    if at_text is not None:
        from phasegate.cli.plan_windows import print_windows_at

        print_windows_at(data["windows_at"])


def _print_monitor(monitor: PostMonitorView) -> None:
    """Post-rollout monitoring: what the run does once the rollout has succeeded."""
    from phasegate.durations import written
    from phasegate.words import plural

    click.echo("\nafter success, monitoring:")
    if monitor.get("error"):
        click.echo(f"  schedule: {monitor['error']}")
    else:
        pieces = ", then ".join(
            f"every {written(s['every'])} for {written(s['for'])}" for s in monitor["schedule"]
        )
        click.echo(
            f"  {pieces}: {plural(monitor['slots'], 'check')} in {written(monitor['duration'])}"
        )
    click.echo(f"  checks: {', '.join(monitor['checks'])}")
    acts = plural(monitor["fail_after"], "failed check")
    lock = "kept" if monitor["lock"] == "keep" else "released"
    click.echo(f"  {acts} in a row -> {monitor['on_failure']}; the plan's lock is {lock}")


def _print_eta(eta: dict[str, Any]) -> None:
    from phasegate.durations import format_duration as fmt

    found = eta.get("estimate")
    if found is None:
        click.echo(f"ETA: unknown ({eta.get('error') or 'no estimate'})")
        return
    low, high = found["interval"]
    basis = f"from {eta['admitted']} past runs" if eta.get("admitted") else "from hints, no history"
    click.echo(f"ETA: p50 {fmt(found['p50'])}, 90% {fmt(low)}–{fmt(high)} ({basis})")


def _print_preview(data: PreviewDoc) -> None:
    """Everything a reviewer needs to approve the run: commands with their variables expanded
    (secrets masked), every limit with its unit, retries, warn-only checks, the rollback and
    its verification."""
    from phasegate.durations import written
    from phasegate.plan.display import check_words
    from phasegate.words import plural

    def limits(words: list[str]) -> str:
        return f"  [{', '.join(words)}]" if words else ""

    click.echo(f"plan {data['name']} ({data['file']})")
    if data["vars"]:
        click.echo("vars:")
        for name, value in data["vars"].items():
            click.echo(f"  {name} = {value}")
    budget, defaults = data["budget"], data.get("defaults", {})
    click.echo(
        f"budget: duration {written(budget['duration'])}, rollback {written(budget['rollback'])}"
        f"; default timeouts: step {written(defaults.get('timeout'))}, "
        f"check {written(defaults.get('check_timeout'))}"
    )
    _print_eta(data.get("eta") or {})
    for number, wave in enumerate(data["waves"], start=1):
        click.echo(
            f"wave {number}: {', '.join(wave)}" + ("  (concurrent)" if len(wave) > 1 else "")
        )
    for phase in data["phases"]:
        needs = f" (needs {', '.join(phase['needs'])})" if phase["needs"] else ""
        click.echo(click.style(f"\n▶ phase {phase['id']}{needs}", fg="cyan"))
        for step in phase["steps"]:
            for gate in step.get("pre_gates") or []:  # checked before the step, in order
                click.echo(f"  gate {_check_line(gate)}{limits(check_words(gate))}")
            shown = step.get("shown", {})
            flags: list[str] = []
            if step.get("timeout") is not None:
                flags.append(f"timeout {written(step['timeout'])}")
            if step.get("retries"):
                flags.append(
                    f"{plural(step['retries'], 'retry')} (backoff {written(step['backoff'])}, "
                    "doubling)"
                )
            if step.get("bake") is not None:
                flags.append(f"bake {written(step['bake'])}")
            flags += [f for f in ("idempotent", "continue_on_error") if step.get(f)]
            when = shown.get("when") or step.get("when")
            when_text = f"  when {when}" if when else ""
            command = shown.get("command") or step["command"]
            click.echo(f"  step {step['id']}: {command}{when_text}{limits(flags)}")
            undo = shown.get("undo") or step.get("undo")
            if undo:
                click.echo(f"       undo: {undo}")
        for monitor in phase.get("monitors", []):
            again = monitor["every"]
            every = f"  (again {written(again)} after it ends)" if again else ""
            click.echo(
                f"  monitor {monitor['name']}: {monitor['shown'] or monitor['command']}{every}"
                "  [runs beside the phase; ended when it ends]"
            )
        for gate in phase["gates"]:
            mark = (
                "  [unchecked: fails under --require-checked]"
                if gate.get("fails_unchecked")
                else ""
            )
            click.echo(f"  gate {_check_line(gate)}{limits(check_words(gate))}{mark}")
        for action in phase.get("rollback_shown") or phase["rollback"]:
            click.echo(f"  rollback: {action}")
        if phase.get("rollback_budget") is not None:
            click.echo(f"  rollback budget of this phase: {written(phase['rollback_budget'])}")
    if data["triggers"]:
        click.echo("\ntriggers:")
        for trigger in data["triggers"]:
            during = f", during {', '.join(trigger['during'])}" if trigger.get("during") else ""
            delay = (
                f", first after {written(trigger['initial_delay'])}"
                if trigger.get("initial_delay")
                else ""
            )
            click.echo(
                f"  {trigger['name']}: {trigger.get('shown') or trigger['description']} every "
                f"{written(trigger['every'])}{delay}{during}, trips after "
                f"{plural(trigger['fail_after'], 'consecutive failure')} -> {trigger['action']}"
                f"{limits(check_words(trigger))}"
            )
    post = data.get("monitor")
    if post:
        _print_monitor(post)
    verify = data.get("verify_rollback_checks") or []
    if verify:
        click.echo("\nverify rollback:")
        for check in verify:
            click.echo(f"  {_check_line(check)}{limits(check_words(check))}")
    click.echo(
        f"\non failure: {data['on_failure']}; duration budget: {written(budget['duration'])}; "
        f"rollback budget: {written(budget['rollback'])}; max parallel {data['max_parallel']}"
    )


def _check_line(check: GateView) -> str:
    shown = check.get("shown") or {}
    description = shown.get("description") or check["description"]
    expectation = shown.get("expectation") or check["expectation"]
    return f"{check['id']}: {description}" + (f" — {expectation}" if expectation else "")


@click.command()
def schema() -> None:
    """Print the JSON Schema of plan files (for editor autocompletion and validation)."""
    from phasegate.plan.schema import plan_json_schema

    emit_json(plan_json_schema())
