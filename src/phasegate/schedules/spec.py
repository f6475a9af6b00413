"""A schedule's definition as the CLI builds it and the store keeps it, checked field by
field: a bad cron, an unknown timezone, a missing plan each fail with the field named."""

from __future__ import annotations

import re
from pathlib import Path

from phasegate.errors import PlanError, UsageError
from phasegate.plan.loader import load_plan
from phasegate.plan.model import VarSpec
from phasegate.schedules.due import MISSED_POLICIES
from phasegate.schedules.rules import ScheduleSpec, parse_rule
from phasegate.suggest import did_you_mean

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(
            f"schedule name {name!r}: use letters, digits, '.', '_' and '-' (at most 100), "
            "starting with a letter or digit",
            hint="e.g. invariants or nightly-backup",
        )
    return name


def build_spec(
    *,
    name: str,
    plan: str,
    cron: str | None,
    every: str | None,
    calendar: str | None,
    timezone: str,
    variables: dict[str, str],
    missed: str,
) -> ScheduleSpec:
    """The stored spec of a new schedule, every field checked."""
    check_name(name)
    rule = parse_rule(cron=cron, every=every, calendar=calendar, timezone=timezone)
    if missed not in MISSED_POLICIES:
        raise UsageError(
            f"--missed {missed!r}: not a policy", hint="--missed skip or --missed catch-up-one"
        )
    path = Path(plan).expanduser()
    if not path.is_file():
        raise UsageError(f"PLAN {plan!r}: no such plan file", hint="give the plan's YAML file")
    try:
        loaded = load_plan(path)
    except PlanError as exc:
        raise UsageError(
            f"PLAN {plan!r} does not load: {exc.render()}",
            hint=f"`phasegate validate {plan}` shows every problem",
        ) from None
    if loaded.source_sha256 is not None:
        raise UsageError(
            f"PLAN {plan!r} is a Markdown document; a schedule runs it unattended",
            hint=f"import it to a YAML plan (`phasegate import {plan}`), review that, schedule it",
        )
    declared = loaded.plan.vars
    for key in variables:
        spec = declared.get(key)
        if key not in declared:
            raise UsageError(
                f"--var {key}: the plan declares no variable {key!r}",
                hint=did_you_mean(key, declared) or "declare it under `vars:` first",
            )
        if isinstance(spec, VarSpec) and spec.secret:
            raise UsageError(
                f"--var {key}: {key} is secret in the plan, and a schedule keeps its values in "
                "the store",
                hint="give it to the runs through the environment: `vars: {KEY: {env: NAME}}` "
                "in the plan and `phasegate serve --pass-env NAME`",
            )
    return {
        "plan": str(path.resolve()),
        "plan_name": loaded.plan.name,
        "rule": rule.as_spec(),
        "timezone": timezone,
        "vars": dict(variables),
        "missed": missed,
    }
