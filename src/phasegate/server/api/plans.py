"""``/api/v1/plans``: validate and preview, and how a request names its plan."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends

from phasegate.errors import PlanError, Problem
from phasegate.masking import Masker
from phasegate.plan.loader import LoadedPlan, load_plan, load_plan_text
from phasegate.plan.variables import BUILTINS, VariableError, resolve
from phasegate.server.api.deps import config
from phasegate.server.api.models import PlanSource, Preview, ProblemOut, ValidationResult
from phasegate.server.auth import Identity, require
from phasegate.server.config import ServerConfig
from phasegate.server.errors import ERROR_RESPONSES, ApiError

router = APIRouter(prefix="/api/v1/plans", tags=["plans"], responses=ERROR_RESPONSES)


def load_source(cfg: ServerConfig, source: PlanSource, *, keep: bool = False) -> LoadedPlan:
    """The plan a request names. An inline plan is written (``keep``) to
    ``plans/<sha256>.yaml`` in the state directory when a run starts from it, so resuming the
    run later reads the original text, literal secrets included, not the journal's masked
    copy."""
    if (source.plan is None) == (source.plan_path is None):
        raise ApiError(
            422,
            "invalid_request",
            "give exactly one of `plan` (YAML text) and `plan_path`",
            hint='e.g. {"plan": "version: 1\\nname: …"}',
        )
    if source.plan is not None:
        digest = hashlib.sha256(source.plan.encode()).hexdigest()
        path = cfg.state_dir / "plans" / f"{digest}.yaml"
        loaded = load_plan_text(source.plan, path)
        if keep and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source.plan, encoding="utf-8")
        return loaded
    assert source.plan_path is not None
    root = cfg.plan_root.resolve()
    path = (root / source.plan_path).resolve()
    if not path.is_relative_to(root):
        raise ApiError(
            403,
            "forbidden",
            f"plan_path {source.plan_path!r} is outside the server's plan root",
            hint="name a plan under --plan-root, or send its text as `plan`",
        )
    if not path.is_file():
        raise ApiError(
            404,
            "not_found",
            f"no plan file {source.plan_path!r} under the server's plan root",
            hint="paths are relative to --plan-root",
        )
    return load_plan(path)


def problems(items: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut.model_validate(p.as_dict()) for p in items]


def _dummy_builtins() -> dict[str, str]:
    return {name: f"<{name}>" for name in BUILTINS}


@router.post("/validate", response_model=ValidationResult)
def validate(
    source: PlanSource,
    _: Identity = Depends(require("viewer")),  # noqa: B008
    cfg: ServerConfig = Depends(config),  # noqa: B008
) -> ValidationResult:
    """Check a plan like ``phasegate validate --json``: 200 either way, ``valid`` says."""
    from phasegate.plan.blockers import blockers
    from phasegate.plan.preview import unchecked_manual_checks

    try:
        loaded = load_source(cfg, source)
    except PlanError as exc:
        return ValidationResult(valid=False, problems=problems(exc.problems))
    found: list[Problem] = []
    if source.require_checked:
        found += [
            loaded.smap.problem(
                u["path"],
                f"manual check {u['name']!r} ({u['key']}) is not checked",
                hint="tick it or set `checked: true`; require_checked fails this gate",
            )
            for u in unchecked_manual_checks(loaded.plan)
        ]
    try:
        resolve(loaded.plan, source.vars, _dummy_builtins(), allow_unset_env=True)
    except VariableError as exc:
        found.append(Problem(str(exc), field=f"vars.{exc.name}", hint=exc.hint))
    plan = loaded.plan
    unbound = blockers(loaded)
    return ValidationResult(
        valid=not found,
        executable=not found and not unbound,
        plan=plan.name,
        phases=len(plan.phases),
        steps=sum(len(p.steps) for p in plan.phases),
        gates=sum(len(p.gates) for p in plan.phases),
        triggers=len(plan.triggers),
        problems=problems(found),
        blockers=[b.as_dict() for b in unbound],
        warnings=problems(loaded.warnings),
    )


@router.post("/preview", response_model=Preview)
def preview(
    source: PlanSource,
    _: Identity = Depends(require("viewer")),  # noqa: B008
    cfg: ServerConfig = Depends(config),  # noqa: B008
) -> dict[str, Any]:
    """What a run would do, in order (``phasegate plan --json``). Secret variables, given
    in the plan or in ``vars``, are masked everywhere in the answer."""
    from phasegate.plan.preview import preview as build_preview

    loaded = load_source(cfg, source)
    try:
        variables = resolve(loaded.plan, source.vars, _dummy_builtins(), allow_unset_env=True)
        data = build_preview(loaded, source.vars, require_checked=source.require_checked)
    except VariableError as exc:
        raise ApiError(
            422,
            "invalid_plan",
            str(exc),
            hint=exc.hint,
            details=[{"message": str(exc), "field": f"vars.{exc.name}", "hint": exc.hint}],
        ) from None
    masked: dict[str, Any] = Masker(variables.secret_values()).data(data)
    return masked
