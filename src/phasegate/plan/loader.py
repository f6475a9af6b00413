"""Load a plan file into an immutable, validated Plan, or raise PlanError with every problem."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from phasegate.errors import PlanError, Problem
from phasegate.plan import semantics
from phasegate.plan.checkspecs import resolve_checks
from phasegate.plan.model import Plan
from phasegate.plan.pydantic_errors import problems_from_validation
from phasegate.plan.yamlsource import SourceMap, load_yaml, read_plan_text


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    path: Path
    text: str
    sha256: str
    smap: SourceMap
    warnings: list[Problem] = field(default_factory=list)
    # For a plan imported from Markdown: the document's own hash (``text`` is the imported
    # YAML, which is what runs and what the journal keeps).
    source_sha256: str | None = None

    @property
    def plan_dir(self) -> Path:
        return self.path.parent


MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown")


def load_plan(path: str | Path) -> LoadedPlan:
    """A YAML plan, or a Markdown rollout document imported on the fly."""
    source = Path(path)
    if source.suffix.lower() in MARKDOWN_SUFFIXES:
        return load_markdown(source)
    text = read_plan_text(source)
    return load_plan_text(text, source)


def load_markdown(source: Path) -> LoadedPlan:
    from phasegate.markdown import import_markdown_file

    result = import_markdown_file(source)
    loaded = load_plan_text(result.yaml_text, source)
    raw = source.read_bytes()
    return LoadedPlan(
        plan=loaded.plan,
        path=loaded.path,
        text=loaded.text,
        sha256=loaded.sha256,
        smap=loaded.smap,
        warnings=loaded.warnings,
        source_sha256=hashlib.sha256(raw).hexdigest(),
    )


def load_plan_text(text: str, path: Path) -> LoadedPlan:
    file = str(path)
    data, smap = load_yaml(text, file)
    plan, warnings = build_plan(data, smap)
    return LoadedPlan(
        plan=plan,
        path=path.resolve(),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        smap=smap,
        warnings=warnings,
    )


def build_plan(data: Any, smap: SourceMap) -> tuple[Plan, list[Problem]]:
    if data is None:
        raise PlanError(
            [
                Problem(
                    "the plan is empty",
                    file=smap.file,
                    hint="a plan needs at least `version: 1`, `name: …` and `phases:`",
                )
            ]
        )
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise PlanError(
            [
                smap.problem(
                    (),
                    f"a plan must be a YAML mapping, this document is a {kind}",
                    hint="start with `version: 1`, `name: …` and `phases:`",
                )
            ]
        )
    problems: list[Problem] = []
    if "version" in data and data["version"] != 1:
        raise PlanError(
            [
                smap.problem(
                    ("version",),
                    f"unsupported plan version {data['version']!r}",
                    hint="this phasegate reads `version: 1`",
                )
            ]
        )
    resolve_checks(data, smap, problems)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, data, (), smap, Plan))
        raise PlanError(in_file_order(problems)) from None
    if problems:
        raise PlanError(in_file_order(problems))
    found, warnings = semantics.validate(plan, data, smap)
    if found:
        raise PlanError(in_file_order(found))
    return plan, warnings


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted as an author reads the file, top to bottom."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
