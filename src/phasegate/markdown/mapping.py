"""Sections and blocks -> draft phases (steps, gates, rollback), with a report of every choice.

Which sections become phases: headings that name a phase/stage/step/day/week/wave/task or are
numbered; every other section with executable content becomes a phase of its own (the
document's single title heading excepted). Rollback sections feed the enclosing phase's
rollback, or the plan's when they stand alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from phasegate.markdown import rules
from phasegate.markdown.blocks import BlockMapper
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.parse import Document, Section


@dataclass
class _Walk:
    draft: Draft
    title_section: Section | None
    phase_like: set[int] = field(default_factory=set)  # id() of sections holding a phase


def map_document(doc: Document, source: str) -> Draft:
    draft = Draft(source=source)
    root = doc.root
    title = root.children[0] if len(root.children) == 1 and root.children[0].children else None
    draft.title = _title(doc, root)
    walk = _Walk(draft, title)
    for section in root.walk():
        if section.level and rules.is_phase_title(section.title):
            walk.phase_like.add(id(section))
    _visit(walk, root, None, rollback=False)
    _link_dependencies(draft)
    return draft


def _title(doc: Document, root: Section) -> str:
    for key in ("name", "title"):
        value = doc.front_matter.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    h1 = [s for s in root.children if s.level == 1]
    return h1[0].title if h1 else ""


def _holds_phase(walk: _Walk, section: Section) -> bool:
    return any(id(s) in walk.phase_like for s in section.walk())


def _visit(walk: _Walk, section: Section, phase: PhaseDraft | None, rollback: bool) -> None:
    draft = walk.draft
    is_rollback = rollback or (section.level > 0 and rules.is_rollback_title(section.title))
    if is_rollback and not rollback:
        where = phase.id if phase else "plan"
        draft.note("rollback_sections", line=section.line, title=section.title, phase=where)
    if phase is None and not is_rollback and section.level > 0:
        if id(section) in walk.phase_like:
            phase = draft.new_phase(section.title, section.line, named=True)
        elif section is not walk.title_section and not _holds_phase(walk, section):
            phase = draft.new_phase(section.title, section.line, named=False)
    if section.blocks:
        target = phase
        if target is None and not is_rollback:
            label = section.title or "preamble"
            target = draft.new_phase(label, section.line, named=False)
        before = _mapped(draft)
        BlockMapper(draft, target, section, rollback=is_rollback).map_blocks()
        if _mapped(draft) == before:  # nothing executable: prose a human has to read
            draft.note("unmapped_sections", line=section.line, title=section.title or "(top)")
    for child in section.children:
        _visit(walk, child, phase, is_rollback)


_MAPPED = ("steps", "checks", "rollback", "rollback_checklist")


def _mapped(draft: Draft) -> int:
    return sum(len(draft.report[kind]) for kind in _MAPPED)


def _link_dependencies(draft: Draft) -> None:
    """Phases run in document order; stated chains (`a -> b`) add edges between phases."""
    from phasegate.plan.semantics import find_cycle

    kept = [p for p in draft.phases if p.keep()]
    for previous, phase in itertools.pairwise(kept):
        phase.needs.append(previous.id)
    keys: dict[str, PhaseDraft] = {}
    for phase in kept:
        for key in phase.keys:
            keys.setdefault(key, phase)
    for chain, line in draft.chains:
        for before, after in itertools.pairwise(chain):
            a, b = keys.get(before.lower()), keys.get(after.lower())
            entry: dict[str, Any] = {"from": before, "to": after, "line": line}
            if a is None or b is None or a is b:
                # prose like "shift traffic -> wait" is not a dependency: report only what
                # names a phase or looks like an id
                if a or b or any(ch in before + after for ch in "-_."):
                    entry["applied"] = False
                    draft.report_dependency(entry)
                continue
            if a.id not in b.needs:
                b.needs.append(a.id)
                edges = {p.id: list(p.needs) for p in kept}
                if find_cycle(edges):
                    b.needs.remove(a.id)
                    entry["applied"] = False
                    entry["why"] = "contradicts the document order"
                    draft.report_dependency(entry)
                    continue
            entry["applied"] = True
            draft.report_dependency(entry)
