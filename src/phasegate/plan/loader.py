"""Load a plan file into an immutable, validated Plan, or raise PlanError with every problem."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from phasegate.errors import PlanError, Problem
from phasegate.plan import semantics
from phasegate.plan.checkspecs import resolve_checks
from phasegate.plan.model import Plan
from phasegate.plan.program_expand import expand_programs, program_problems
from phasegate.plan.pydantic_errors import problems_from_validation
from phasegate.plan.windowsfile import resolve_windows_file
from phasegate.plan.yamlsource import SourceMap, load_yaml, read_plan_text
from phasegate.registry import IMPORTERS_GROUP, load


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
    # ``smap`` already cites the document's lines (load_markdown moved it), not the YAML's
    smap_in_document: bool = False
    # The import's own reasons why the document is not executable as written (issue 11 §12):
    # what `validate` (CLI and API) reports beside the blockers.
    import_doubts: list[str] = field(default_factory=list)

    @property
    def plan_dir(self) -> Path:
        return self.path.parent


MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown")


def load_plan(path: str | Path) -> LoadedPlan:
    """A YAML plan, or a Markdown rollout document imported on the fly (by its suffix)."""
    source = Path(path)
    if source.suffix.lower() in MARKDOWN_SUFFIXES:
        # The Markdown importer is a plan source registered through an entry point
        # (``phasegate.importers``), so that the plan model never imports the importer: the
        # importer sits above the plan and uses it (docs/architecture.md, "Layers").
        importer: Callable[[Path], LoadedPlan] = load(IMPORTERS_GROUP, "markdown")
        return importer(source)
    text = read_plan_text(source)
    try:
        return load_plan_text(text, source)
    except PlanError:
        refuse_markdown(text, source)
        raise


# Markdown that YAML never has (or not at a line's start): fences, table rows, task lists,
# **bold**, [links](…), `code`. A heading alone is not enough: `# …` is also a YAML comment.
_HEADING = re.compile(r"^#{1,6}\s+\S")
_MARKDOWN = {
    "a code fence": re.compile(r"^\s*(```|~~~)"),
    "a table row": re.compile(r"^\s*\|.*\|\s*$"),
    "a task list item": re.compile(r"^\s*[-*] \[[ xX]\] "),
    "bold text": re.compile(r"\*\*\S[^*]*\*\*"),
    "a link": re.compile(r"\[[^\]]+\]\([^)]+\)"),
}


def markdown_evidence(text: str) -> list[str]:
    """Why ``text`` reads as Markdown (``["a heading at line 1", …]``), or ``[]``."""
    lines = text.splitlines()
    heading = next((n for n, line in enumerate(lines, 1) if _HEADING.match(line)), None)
    found = []
    for what, pattern in _MARKDOWN.items():
        line = next((n for n, text in enumerate(lines, 1) if pattern.search(text)), None)
        if line is not None:
            found.append(f"{what} at line {line}")
    strong = any(w.startswith(("a code fence", "a table row")) for w in found)
    if heading is None and not strong:
        return []
    if heading is not None and not found:
        return []
    return ([f"a heading at line {heading}"] if heading is not None else []) + found[:2]


def refuse_markdown(text: str, source: Path) -> None:
    """A file that is not a YAML mapping but reads as Markdown (a seed saved as `.txt`) gets
    that said, instead of a YAML error about an alias at `**Spec:**`. phasegate does not
    import it on the fly as it does a `.md` file: the suffix does not say Markdown, and an
    import is a guess at what to run that a human should review (docs/markdown-import.md)."""
    with contextlib.suppress(PlanError):
        data, _ = load_yaml(text, str(source))
        if isinstance(data, dict):
            return  # a YAML plan with problems of its own: report those
    evidence = markdown_evidence(text)
    if not evidence:
        return
    raise PlanError(
        [
            Problem(
                "this file looks like a Markdown document, not a YAML plan ("
                + ", ".join(evidence)
                + ")",
                file=str(source),
                line=int(evidence[0].rsplit(" ", 1)[1]),
                hint=f"turn it into a plan with `phasegate import {source} -o plan.yaml` and "
                "review what it made, or rename it to .md to import it on every run",
            )
        ]
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
    resolve_windows_file(data, smap, problems)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, data, (), smap, Plan))
        raise PlanError(in_file_order(problems)) from None
    if problems:
        raise PlanError(in_file_order(problems))
    found, warnings = semantics.validate(plan, data, smap)
    found += program_problems(plan, smap)
    if found:
        raise PlanError(in_file_order(found))
    return expand_programs(plan), warnings


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted as an author reads the file, top to bottom."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
