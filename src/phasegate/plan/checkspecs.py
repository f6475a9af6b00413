"""Turn raw check mappings into instances of their kind, each validated by the kind's model."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from phasegate.checks.base import CheckSpec
from phasegate.errors import Problem
from phasegate.plan.notifyspecs import resolve_notify
from phasegate.plan.program import NamedCheck
from phasegate.plan.pydantic_errors import problems_from_validation
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.registry import CHECKS_GROUP, ROUTERS_GROUP, check_kind, names, router_kind
from phasegate.suggest import did_you_mean
from phasegate.traffic.base import RouterSpec

_COMMON = set(CheckSpec.model_fields)


def build_check(
    raw: Any, path: Path_, smap: SourceMap, problems: list[Problem]
) -> CheckSpec | None:
    kinds = set(names(CHECKS_GROUP))  # names only: a kind's module loads when a plan uses it
    if not isinstance(raw, dict):
        problems.append(
            smap.problem(
                path,
                "a check must be a mapping with one key naming its kind",
                hint="e.g. `- command: test -f app.txt` or `- http: http://127.0.0.1/healthz`",
            )
        )
        return None
    named = [key for key in raw if key in kinds]
    if len(named) > 1:
        problems.append(
            smap.problem(
                (*path, named[1]),
                f"a check has exactly one kind, this one names {len(named)}: {', '.join(named)}",
                hint="split it into separate checks, one kind each",
                key=True,
            )
        )
        return None
    if not named:
        unknown = [k for k in raw if k not in _COMMON and k != "expect"]
        guess = did_you_mean(unknown[0], kinds) if unknown else None
        problems.append(
            smap.problem(
                (*path, unknown[0]) if unknown else path,
                f"unknown check kind {unknown[0]!r}"
                if unknown
                else "this check does not name its kind",
                hint=guess or f"check kinds: {', '.join(sorted(kinds))}",
                key=bool(unknown),
            )
        )
        return None
    model: type[CheckSpec] = check_kind(named[0])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, raw, path, smap, model))
        return None


def build_router(raw: Any, path: Path_, smap: SourceMap, problems: list[Problem]) -> Any:
    """``traffic.router``: like a check, one key names the kind, beside its options."""
    kinds = set(names(ROUTERS_GROUP))
    named = [key for key in raw if key in kinds] if isinstance(raw, dict) else []
    if len(named) != 1:
        unknown = [k for k in raw if k not in kinds] if isinstance(raw, dict) else []
        guess = did_you_mean(unknown[0], kinds) if unknown and not named else None
        problems.append(
            smap.problem(
                path,
                "a router is a mapping with exactly one key naming its kind"
                + (f" (unknown: {unknown[0]!r})" if unknown and not named else ""),
                hint=guess
                or "e.g. `router: {command: ./set-weight.sh}`; kinds: " + ", ".join(sorted(kinds)),
            )
        )
        return None
    model = router_kind(named[0])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, raw, path, smap, model))
        return None


def resolve_checks(data: dict[str, Any], smap: SourceMap, problems: list[Problem]) -> None:
    """Replace, in place, every check mapping of a raw plan with a validated CheckSpec."""

    def convert_list(container: Any, key: str, path: Path_) -> None:
        if not isinstance(container, dict) or not isinstance(container.get(key), list):
            return
        items = container[key]
        for index, raw in enumerate(items):
            if isinstance(raw, CheckSpec):
                continue
            items[index] = build_check(raw, (*path, key, index), smap, problems) or _placeholder()

    phases = data.get("phases")
    if isinstance(phases, list):
        for index, phase in enumerate(phases):
            convert_list(phase, "gates", ("phases", index))
            ready = phase.get("ready") if isinstance(phase, dict) else None
            _resolve_ready_checks(ready, ("phases", index, "ready"), smap, problems)
            decision = phase.get("go_no_go") if isinstance(phase, dict) else None
            _resolve_ready_checks(decision, ("phases", index, "go_no_go"), smap, problems)
            convert_list(phase, "batch_gates", ("phases", index))
            convert_list(phase, "host_gates", ("phases", index))
            steps = phase.get("steps") if isinstance(phase, dict) else None
            for s_index, step in enumerate(steps if isinstance(steps, list) else []):
                convert_list(step, "pre_gates", ("phases", index, "steps", s_index))
    triggers = data.get("triggers")
    if isinstance(triggers, list):
        for index, trigger in enumerate(triggers):
            if isinstance(trigger, dict) and "check" in trigger:
                raw = trigger["check"]
                if not isinstance(raw, CheckSpec):
                    path = ("triggers", index, "check")
                    trigger["check"] = build_check(raw, path, smap, problems) or _placeholder()
    convert_list(data, "verify_rollback", ())
    convert_list(data.get("monitor"), "checks", ("monitor",))
    traffic = data.get("traffic")
    if (
        isinstance(traffic, dict)
        and "router" in traffic
        and not isinstance(traffic["router"], RouterSpec)
    ):
        # A router that produced a problem is stood in for, like a check, so the plan
        # model does not also report the traffic block as having no router.
        traffic["router"] = (
            build_router(traffic["router"], ("traffic", "router"), smap, problems) or RouterSpec()
        )
    if isinstance(data.get("notify"), dict):
        resolve_notify(data, smap, problems)


def _resolve_ready_checks(
    ready: Any, path: Path_, smap: SourceMap, problems: list[Problem]
) -> None:
    """``ready.checks`` and ``go_no_go.checks``: a check spec (a hard check) or a named check
    ``{name, weight, check}`` whose ``check`` is a spec or a command string
    (plan/program.py)."""
    if not isinstance(ready, dict) or not isinstance(ready.get("checks"), list):
        return
    items = ready["checks"]
    for index, raw in enumerate(items):
        here = (*path, "checks", index)
        if isinstance(raw, CheckSpec | NamedCheck):
            continue
        if not (isinstance(raw, dict) and {"check", "weight", "hard"} & raw.keys()):
            items[index] = build_check(raw, here, smap, problems) or _placeholder()
            continue
        inner = raw.get("check")
        if inner is None:
            problems.append(
                smap.problem(
                    here,
                    "a named check needs `check:` (a check spec or a command)",
                    hint="e.g. `- {name: demo, weight: 2, check: test -f demo.md}`",
                )
            )
            items[index] = _placeholder()
            continue
        spec = (
            inner
            if isinstance(inner, CheckSpec)
            else build_check(
                {"command": inner} if isinstance(inner, str) else inner,
                (*here, "check"),
                smap,
                problems,
            )
        )
        if spec is None:
            items[index] = _placeholder()
            continue
        try:
            items[index] = NamedCheck.model_validate({**raw, "check": spec})
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, raw, here, smap, NamedCheck))
            items[index] = _placeholder()


def _placeholder() -> CheckSpec:
    # Stands in for a check that already produced a problem, so that the plan model can still
    # report the other problems of the document in the same pass.
    model: type[CheckSpec] = check_kind("expr")
    return model.model_validate({"expr": "true"})
