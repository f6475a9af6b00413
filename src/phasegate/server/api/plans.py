"""``/api/v1/plans``: validate and preview, and how a request names its plan."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends

from phasegate.errors import PlanError, Problem
from phasegate.masking import Masker
from phasegate.plan.loader import LoadedPlan, load_plan, load_plan_text
from phasegate.plan.variables import VariableError, resolve
from phasegate.server.api.deps import config
from phasegate.server.api.models import (
    BlockerOut,
    PlanSource,
    Preview,
    ProblemOut,
    ValidationResult,
)
from phasegate.server.auth import Identity, require
from phasegate.server.config import ServerConfig
from phasegate.server.errors import ERROR_RESPONSES, ApiError
from phasegate.server.sandbox import run_limited
from phasegate.substitution import BUILTINS

if TYPE_CHECKING:
    from phasegate.plan.preview import PreviewDoc

router = APIRouter(prefix="/api/v1/plans", tags=["plans"], responses=ERROR_RESPONSES)

# How answers name a plan sent as text: not by the file the server keeps it in, whose path
# is the server's business (its state directory).
INLINE_NAME = "<plan>"
# Validating and previewing read no environment: ``{env: NAME}`` would otherwise hand the
# caller the server's own variables (its secrets). See ``server.environment``.
NO_ENVIRONMENT: dict[str, str] = {}


def shown_name(cfg: ServerConfig, source: PlanSource) -> str:
    """The name answers give the plan: what the caller sent, never a server path."""
    return INLINE_NAME if source.plan is not None else str(source.plan_path)


def _renamed(exc: PlanError, real: Path, shown: str) -> PlanError:
    """The same problems, naming the plan as the caller knows it."""
    names = {str(real), str(real.resolve())}
    problems = [dataclasses.replace(p, file=shown) if p.file in names else p for p in exc.problems]
    return PlanError(problems, exc.headline)


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
        try:
            loaded = load_plan_text(source.plan, path)
        except PlanError as exc:
            raise _renamed(exc, path, INLINE_NAME) from None
        if keep and not path.exists():
            _keep_private(path, source.plan)
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
    if path.is_relative_to(cfg.state_dir.resolve()):
        # The default layout puts the state directory (./.phasegate) under the plan root (the
        # working directory): its keys, tokens and journal are no plan, and a viewer who may
        # validate files must not learn of them (which exist, a byte of the session key in a
        # "not UTF-8" problem).
        raise ApiError(
            403,
            "forbidden",
            f"plan_path {source.plan_path!r} is in the server's state directory",
            hint="name a plan under --plan-root, or send its text as `plan`",
        )
    if not path.is_file():
        raise ApiError(
            404,
            "not_found",
            f"no plan file {source.plan_path!r} under the server's plan root",
            hint="paths are relative to --plan-root",
        )
    try:
        loaded = load_plan(path)
    except PlanError as exc:
        raise _renamed(exc, path, source.plan_path) from None
    if keep and loaded.source_sha256 is not None:
        _refuse_unreviewed(cfg, loaded.source_sha256, source.plan_path)
    return loaded


def _refuse_unreviewed(cfg: ServerConfig, sha256: str, shown: str) -> None:
    """A Markdown document runs from the API only once a person has reviewed exactly these
    bytes (issue 11 §13): an API request has no terminal to ask on, and an import is a guess
    at what to run. The review is the CLI's record in the server's state directory."""
    from phasegate.store import reviews

    if reviews.find(cfg.state_dir, sha256) is None:
        raise ApiError(
            409,
            "conflict",
            f"{shown}: not run: nobody has reviewed what importing this Markdown document "
            f"does (sha256 {sha256[:12]}…; a changed document needs review again)",
            hint=f"on the server: `phasegate --state-dir <state dir> review {shown}` shows it "
            "and records the review; or import it to a YAML plan and run that",
        )


def _keep_private(path: Path, text: str) -> None:
    """Write the plan's text readable by the server's user only (it may hold literal
    secrets): 0700 directory, 0600 file, created with those modes rather than chmod-ed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)  # whole or absent, even for a concurrent start


def problems(items: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut.model_validate(p.as_dict()) for p in items]


def _dummy_builtins() -> dict[str, str]:
    return {name: f"<{name}>" for name in BUILTINS}


def check_loads(cfg: ServerConfig, source: PlanSource) -> None:
    """Load the plan and drop it: run in the sandbox before the server loads it itself."""
    load_source(cfg, source)


@router.post("/validate", response_model=ValidationResult)
def validate(
    source: PlanSource,
    _: Identity = Depends(require("viewer")),  # noqa: B008
    cfg: ServerConfig = Depends(config),  # noqa: B008
) -> ValidationResult:
    """Check a plan like ``phasegate validate --json``: 200 either way, ``valid`` says."""
    return run_limited(validation_result, cfg, source)


def validation_result(cfg: ServerConfig, source: PlanSource) -> ValidationResult:
    """The work of ``validate``, done in a sandboxed child (``server.sandbox``)."""
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
        resolve(loaded.plan, source.vars, _dummy_builtins(), NO_ENVIRONMENT, allow_unset_env=True)
    except VariableError as exc:
        found.append(Problem(str(exc), field=f"vars.{exc.name}", hint=exc.hint))
    plan = loaded.plan
    unbound = blockers(loaded)
    shown = shown_name(cfg, source)
    real = {loaded.smap.file, str(loaded.path)}

    def named(items: list[Problem]) -> list[ProblemOut]:
        renamed = [dataclasses.replace(p, file=shown) if p.file in real else p for p in items]
        return problems(renamed)

    # A Markdown document's import says why it is not executable as written, as the CLI's
    # validate does (less what the blockers say again).
    doubts = [d for d in loaded.import_doubts if " to bind " not in d]
    return ValidationResult(
        valid=not found,
        executable=not found and not unbound and not doubts,
        not_executable=doubts,
        plan=plan.name,
        phases=len(plan.phases),
        steps=sum(len(p.steps) for p in plan.phases),
        gates=sum(len(p.gates) + sum(len(s.pre_gates) for s in p.steps) for p in plan.phases),
        triggers=len(plan.triggers),
        problems=named(found),
        blockers=[BlockerOut.model_validate(b.as_dict()) for b in unbound],
        warnings=named(loaded.warnings),
    )


@router.post("/preview", response_model=Preview)
def preview(
    source: PlanSource,
    _: Identity = Depends(require("viewer")),  # noqa: B008
    cfg: ServerConfig = Depends(config),  # noqa: B008
) -> PreviewDoc:
    """What a run would do, in order (``phasegate plan --json``). Secret variables, given
    in the plan or in ``vars``, are masked everywhere in the answer."""
    return run_limited(preview_document, cfg, source)


def preview_document(cfg: ServerConfig, source: PlanSource) -> PreviewDoc:
    """The work of ``preview``, done in a sandboxed child (``server.sandbox``)."""
    from phasegate.plan.preview import preview as build_preview

    loaded = load_source(cfg, source)
    try:
        variables = resolve(
            loaded.plan, source.vars, _dummy_builtins(), NO_ENVIRONMENT, allow_unset_env=True
        )
        data = build_preview(
            loaded,
            source.vars,
            require_checked=source.require_checked,
            environ=NO_ENVIRONMENT,
            file=shown_name(cfg, source),
        )
    except VariableError as exc:
        raise ApiError(
            422,
            "invalid_plan",
            str(exc),
            hint=exc.hint,
            details=[{"message": str(exc), "field": f"vars.{exc.name}", "hint": exc.hint}],
        ) from None
    masked: PreviewDoc = Masker(variables.secret_values()).data(data)
    return masked
