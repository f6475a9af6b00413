"""A Markdown rollout document as a plan: imported, then loaded, its positions in the
document's own lines.

Registered as the ``markdown`` plan source (entry-point group ``phasegate.importers``), which
``plan.loader.load_plan`` uses for ``.md`` files: the importer uses the plan model, never the
other way round (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from phasegate.errors import Problem
from phasegate.markdown.emit import import_markdown_bytes, read_document
from phasegate.markdown.lines import markdown_lines
from phasegate.plan.loader import LoadedPlan, load_plan_text
from phasegate.plan.yamlsource import SourceMap


def load_markdown(source: Path) -> LoadedPlan:
    # Read once: the bytes hashed (what a review vouches for) are the bytes imported.
    raw = read_document(source)
    result = import_markdown_bytes(raw, source)
    doubts = [str(r) for r in result.report.get("not_executable") or []]
    return load_imported_text(
        result.yaml_text, source, hashlib.sha256(raw).hexdigest(), import_doubts=doubts
    )


def load_imported_text(
    yaml_text: str, source: Path, source_sha256: str, import_doubts: list[str] | None = None
) -> LoadedPlan:
    """The plan a Markdown document imported to, with its positions in the document's lines."""
    loaded = load_plan_text(yaml_text, source)
    lines = _markdown_positions(loaded.smap, yaml_text, source.name)
    return LoadedPlan(
        plan=loaded.plan,
        path=loaded.path,
        text=loaded.text,
        sha256=loaded.sha256,
        smap=loaded.smap,
        warnings=[_markdown_problem(w, lines, loaded.smap.file) for w in loaded.warnings],
        source_sha256=source_sha256,
        smap_in_document=True,
        import_doubts=list(import_doubts or []),
    )


def _markdown_positions(smap: SourceMap, yaml_text: str, name: str) -> dict[int, int]:
    """YAML line -> the document's line (markdown/lines.py), and ``smap`` moved to the
    document's lines in place: messages about `X.md` cite lines of `X.md` (issue 11 §12). A
    position without a Markdown line (the plan's name, its vars) has none, not a wrong one."""
    lines = markdown_lines(yaml_text, name)
    for table in (smap.values, smap.keys):
        for path, (line, _column) in list(table.items()):
            if line in lines:
                table[path] = (lines[line], None)
            else:
                del table[path]
    return lines


def _markdown_problem(problem: Problem, lines: dict[int, int], file: str) -> Problem:
    if problem.line is None or problem.file != file:
        return problem
    return dataclasses.replace(problem, line=lines.get(problem.line), column=None)
