"""``phasegate estimate PLAN``: how long the plan's steps, phases and a whole run take, with
90 % intervals learned from the journal's history of the plan (docs/estimates.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import click

from phasegate.cli.common import emit_json, json_option, open_store

if TYPE_CHECKING:  # annotations only: the estimate package loads with the verb (start-up)
    from phasegate.estimate import Estimate, Fitted, RunDurations
    from phasegate.estimate.backtest import BacktestDict
    from phasegate.estimate.calibration import AdmissionDict
    from phasegate.estimate.estimator import EstimateDict
    from phasegate.plan.model import Plan
    from phasegate.store.contract import JournalStore
    from phasegate.store.records import RunRecord

HISTORY_LIMIT = 10_000
# `plan` is a quick preview: its ETA learns from the newest 1,000 runs (reading a run from
# SQLite costs ~0.4 ms; docs/performance.md#estimates), `estimate` from up to 10,000.
ETA_HISTORY_LIMIT = 1_000


class EstimateJson(TypedDict):
    """``estimate --json``."""

    plan: str
    history: int  # finished runs read
    calibration: AdmissionDict
    run: EstimateDict
    phases: list[EstimateDict]
    steps: list[EstimateDict]
    resources: list[dict[str, Any]]  # each resource budget's whole-run amount
    backtest: NotRequired[BacktestDict]  # with --calibration


def load_history(ctx: click.Context, plan: Plan, limit: int = HISTORY_LIMIT) -> list[RunDurations]:
    """The finished runs of the same plan name in the journal, oldest first. Read through a
    read-only store (a full disk does not stop an estimate); the durations digests it had to
    compute (old runs) are then saved through a writable one, once (estimate/digest.py)."""
    from phasegate.errors import PhasegateError
    from phasegate.estimate.digest import read_digested, save

    store = open_store(ctx, readonly=True)
    try:
        found, pending = read_digested(store, plan.name, limit=limit, exclude=None)
    finally:
        store.close()
    if pending:
        try:
            writable = open_store(ctx)
        except PhasegateError:
            return found  # computed again next time
        try:
            save(writable, pending)
        finally:
            writable.close()
    return found


def try_history(ctx: click.Context, plan: Plan) -> list[RunDurations]:
    """The plan's newest runs for a preview, or none when the store cannot be read (a
    preview is never stopped by it)."""
    from phasegate.errors import PhasegateError

    try:
        return load_history(ctx, plan, ETA_HISTORY_LIMIT)
    except PhasegateError:
        return []


def eta(ctx: click.Context, plan: Plan) -> dict[str, Any]:
    """``phasegate plan``'s ETA: the whole run's estimate, or why there is none (a store that
    cannot be read does not stop a preview)."""
    from phasegate.errors import PhasegateError
    from phasegate.estimate import fit

    try:
        fitted: Fitted = fit(plan, load_history(ctx, plan, ETA_HISTORY_LIMIT))
    except PhasegateError as exc:
        return {"estimate": None, "error": exc.message}
    _, _, run = fitted.models.estimate()
    return {"estimate": run.as_dict(), "admitted": len(fitted.admission.admitted)}


def remaining_words(store: JournalStore, record: RunRecord) -> str | None:
    """``status``'s line for an unfinished run: its remaining time with the interval, learned
    from the plan's newest finished runs; None when there is nothing to say (or the stored
    plan cannot be read: status must show the rest regardless)."""
    import time
    from pathlib import Path

    from phasegate.durations import format_duration as fmt
    from phasegate.errors import PhasegateError
    from phasegate.estimate import fit, read_history, remaining
    from phasegate.plan.loader import load_plan_text

    try:
        plan = load_plan_text(record.plan_text, Path(record.plan_path or "plan.yaml")).plan
        history = read_history(store, record.plan_name, limit=ETA_HISTORY_LIMIT, exclude=record.id)
    except PhasegateError:
        return None
    left = remaining(fit(plan, history).models, store.events(record.id), time.time())
    est = left.estimate
    late = f"; overdue: {', '.join(left.overdue)}" if left.overdue else ""
    return (
        f"remaining: p50 {fmt(est.p50)}, 90% {fmt(est.low)}–{fmt(est.high)} "
        f"(work so far {fmt(left.elapsed)}, waited {fmt(left.waited)}{late})"
    )


def interval_words(estimate: Estimate) -> str:
    from phasegate.durations import format_duration as fmt

    return f"p50 {fmt(estimate.p50)}  90% {fmt(estimate.low)}–{fmt(estimate.high)}"


def resource_words(found: dict[str, Any]) -> str:
    """``resource tokens: p50 12,500 tok  90% 9,800–16,000 tok  (budget 20,000 tok)``, and
    the steps no admitted run reported the output for (counted as 0); when that is every
    step, no amount at all (a 0 would read as a forecast)."""
    from phasegate.estimate.resources import amount_words as _amount

    unit = found["unit"]
    low, high = found["interval"]
    if found["unprojected"] and low == high == found["p50"] == 0:
        # No step is projected: an amount of 0 would read as a forecast of nothing used.
        return (
            f"resource {found['name']}: not projected — no admitted run reported "
            f"`{found['output']}` and no step has a hint (budget "
            f"{_amount(found['budget'], unit)}); steps: {', '.join(found['unprojected'])}"
        )
    words = (
        f"resource {found['name']}: p50 {_amount(found['p50'], unit)}  "
        f"90% {_amount(low, None)}–{_amount(high, unit)}  "
        f"(budget {_amount(found['budget'], unit)})"
    )
    if found["unprojected"]:
        words += f"; not projected (no history, no hint): {', '.join(found['unprojected'])}"
    return words


def _basis(estimate: Estimate) -> str:
    return {
        "history": f"from {estimate.runs} run{'s' if estimate.runs != 1 else ''}",
        "hint": "from the plan's hint",
        "default": "no history, no hint: a vague prior",
        "steps": "the sum of its steps",
        "phases": "Monte Carlo over the phases",
    }[estimate.source]


@click.command("estimate")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--calibration",
    is_flag=True,
    help="Also score past estimates: MAE (%) and 90% interval coverage, rolling origin.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1_000_000),
    default=HISTORY_LIMIT,
    show_default=True,
    help="Learn from at most this many of the newest runs.",
)
@json_option
@click.pass_context
def estimate(
    ctx: click.Context, plan_file: str, calibration: bool, limit: int, as_json: bool
) -> None:
    """Estimate how long PLAN_FILE's steps, phases and a whole run take: the median and a 90%
    interval, learned from the journal's runs of the same plan that its calibration rule
    admits (human waits removed), else from its `estimate:` hints. Each resource budget
    (`budget.resources`) gets the whole run's amount of its output (p50 and 90% interval)
    the same way, from the steps' outputs.

    The whole run is a Monte Carlo over the phase DAG (independent phases side by side).
    Exit 0; 2 for a bad plan.
    """
    from phasegate.estimate import backtest, fit
    from phasegate.estimate.resources import resource_estimates
    from phasegate.plan.loader import load_plan

    plan = load_plan(plan_file).plan
    history = load_history(ctx, plan, limit)
    fitted = fit(plan, history)
    steps, phases, run = fitted.models.estimate()
    resources = [r.as_dict() for r in resource_estimates(plan, history)]
    scored = backtest(plan, history) if calibration else None
    if as_json:
        data: EstimateJson = {
            "plan": plan.name,
            "history": len(history),
            "calibration": fitted.admission.as_dict(),
            "run": run.as_dict(),
            "phases": [e.as_dict() for e in phases],
            "steps": [e.as_dict() for e in steps],
            "resources": resources,
        }
        if scored is not None:
            data["backtest"] = scored.as_dict()
        emit_json(data)
        return
    admission = fitted.admission
    click.echo(
        f"plan {plan.name}: {len(admission.admitted)} of {len(history)} finished runs admitted "
        f"by `{admission.rule}`"
    )
    for reason, count in admission.reasons.most_common(3):
        click.echo(f"  {count} not admitted: {reason}")
    click.echo(f"run            {interval_words(run)}  ({_basis(run)})")
    for found in resources:
        click.echo(resource_words(found))
    for phase in phases:
        click.echo(click.style(f"▶ phase {phase.key}", fg="cyan"))
        click.echo(f"    {interval_words(phase)}  ({_basis(phase)})")
        for step in steps:
            if step.key.startswith(phase.key + "/"):
                name = step.key.split("/", 1)[1]
                click.echo(f"  step {name}: {interval_words(step)}  ({_basis(step)})")
    if scored is not None:
        click.echo(f"calibration: {scored.method}")
        for score in scored.scores.values():
            shown = score.as_dict()
            if not score.predictions:
                click.echo(f"  {score.kind:5}: no predictions (too few admitted runs)")
                continue
            click.echo(
                f"  {score.kind:5}: MAE {shown['mae_pct']:.1f}%, 90% interval covered "
                f"{shown['coverage']:.0%} of {score.predictions} predictions"
            )
