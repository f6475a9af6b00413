"""Stated dependencies -> ``needs`` between phases.

Read from: ``a -> b -> c`` chains; ``after: x`` / ``Depends on x and y`` / ``Blocked by x`` lines
(the enclosing phase needs the named ones); tables with a "Depends on" / "Dependencies" /
"Prerequisites" / "Blocked by" column; mermaid ``graph`` / ``flowchart`` edges. A name is
resolved through the phases' keys (id, slug of the title, inline code in the heading, "Task 3"
/ "#3" / "3.1" numbers, headings nested in a phase); what does not resolve, or would make a
cycle, is reported and not applied. Parsing never raises: it reads whatever it can.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from phasegate.markdown import rules
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.mermaid import parse_mermaid
from phasegate.plan.model import slugify
from phasegate.plan.semantics import find_cycle

if TYPE_CHECKING:
    from phasegate.markdown.entries import ReportEntry


@dataclass
class Edge:
    """``before`` must finish before ``after``; each side lists names, any of which may match."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    line: int
    via: str  # chain | after | table | mermaid | directive
    phase: PhaseDraft | None = None  # the enclosing phase: the `after` side when set
    group: int = 0  # edges read from one chain or one graph share a group
    declares: bool = False  # a chain of ids stated as an order: may declare its phases


# -- reading ----------------------------------------------------------------------------

_LEAD = r"^[\s>*_\-+\d.)\[\]xX]*?"  # list markers, bold, a task box
_STATED = re.compile(
    _LEAD + r"(?:\*\*|__)?\s*(?:"
    r"(?P<colon>after|dependencies|depends[\s-]+on|blocked[\s-]+by|needs)\s*(?:\*\*|__)?\s*:"
    r"|(?P<bare>depends[\s-]+on|blocked[\s-]+by))"
    r"\s*(?:\*\*|__)?\s*(?P<names>\S.*)$",
    re.I,
)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\+)\s*", re.I)
_LINK = re.compile(r"\[([^\]]*)\]\(#?([^)\s]*)\)")
_NONE = re.compile(r"^(?:none|n/?a|nothing|-+|—|–|tbd|\(none\))$", re.I)
_ID_LIKE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)+$")
_ORDER_CUE = re.compile(r"order|depend|sequen|chain|graph|slice|before|after|then", re.I)
_NUMBER = re.compile(
    r"^[\W_]*(?:(phase|stage|step|task|day|week|wave|milestone|sprint|round|part)\s*[-#:]?\s*)?"
    r"#?\s*(\d{1,3}(?:\.\d{1,3})*)(?![\d])",
    re.I,
)
# "Dependency | Risk level" names the subject, not what it waits for: only these read as
# prerequisites
_DEP_COLUMN = re.compile(
    r"depends[\s-]+on|dependencies|prerequisites?|pre-?reqs?|blocked[\s-]*by|"
    r"^(?:after|needs|requires|waits for)$",
    re.I,
)
_SUBJECT_COLUMN = re.compile(
    r"^(?:#|id|no\.?|phase|stage|task|step|slice|item|work ?item|name|title|milestone|"
    r"component|service|todo|deliverable)s?$",
    re.I,
)


class Collector:
    """Adds the dependencies a block states to ``draft.edges``."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft

    def _next_group(self) -> int:
        return len(self.draft.edges) + 1

    def text(self, text: str, line: int, phase: PhaseDraft | None, context: str = "") -> None:
        """A paragraph or list item: chains, and ``after:`` / ``Depends on`` lines."""
        code_spans = [c.strip() for c in re.findall(r"`([^`]+)`", text)]
        for chain in rules.dependency_chains(text):
            group = self._next_group()
            flat = " -> ".join(chain)
            declares = (
                len(chain) >= 3
                and all(_ID_LIKE.match(n) for n in chain)
                and any(rules.ARROW.sub(" -> ", c) == flat for c in code_spans)
                and bool(_ORDER_CUE.search(text) or _ORDER_CUE.search(context))
            )
            for before, after in itertools.pairwise(chain):
                edge = Edge((before,), (after,), line, "chain", group=group, declares=declares)
                self.draft.edges.append(edge)
        if phase is None:
            return
        for offset, row in enumerate(text.splitlines()):
            match = _STATED.match(row)
            if match is None:
                continue
            for name in split_names(match.group("names")):
                edge = Edge(alternatives(name), (), line + offset, "after", phase)
                self.draft.edges.append(edge)

    def table(self, header: list[str], rows: list[list[str]], line: int) -> bool:
        """A table with a dependency column: each row's subject needs the named ones."""
        dep = next((i for i, h in enumerate(header) if _DEP_COLUMN.search(h.strip())), None)
        if dep is None:
            return False
        subject = next(
            (i for i, h in enumerate(header) if i != dep and _SUBJECT_COLUMN.match(h.strip())),
            next((i for i in range(len(header)) if i != dep), None),
        )
        if subject is None:
            return False
        for offset, row in enumerate(rows):
            if max(dep, subject) >= len(row) or not row[subject].strip():
                continue
            after = alternatives(row[subject])
            for name in split_names(row[dep]):
                self.draft.edges.append(Edge(alternatives(name), after, line + 2 + offset, "table"))
        return True

    def mermaid(self, text: str, line: int) -> None:
        graph = parse_mermaid(text)
        group = self._next_group()
        for src, dst, offset in graph.edges:
            before = _node_names(src, graph.labels)
            after = _node_names(dst, graph.labels)
            self.draft.edges.append(Edge(before, after, line + 1 + offset, "mermaid", group=group))


def split_names(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip().rstrip(".")
    if _NONE.match(text):
        return []
    names = []
    for part in _SPLIT.split(text):
        name = part.strip(" *_`\"'.")
        if name.startswith("(") and name.endswith(")"):
            name = name[1:-1].strip()
        if name and not _NONE.match(name):
            names.append(name)
    return names


def alternatives(name: str) -> tuple[str, ...]:
    """The spellings a reference may match: its text, a link's text and anchor."""
    plain = re.sub(r"[`*]|\b_|_\b", "", _LINK.sub(r"\1", name)).strip()
    found = [plain, name.strip()]
    for text, anchor in _LINK.findall(name):
        found += [text, anchor]
    found += re.findall(r"`([^`]+)`", name)
    return tuple(dict.fromkeys(f for f in found if f))


def _node_names(node: str, labels: dict[str, str]) -> tuple[str, ...]:
    label = labels.get(node)
    return (node, label) if label else (node,)


# -- resolving and applying -------------------------------------------------------------


def heading_keys(title: str) -> set[str]:
    """What a heading answers to: its slug and its number (``Task 3`` -> ``task-3``, ``#3``)."""
    keys = {slugify(title), title.strip().lower()}
    match = _NUMBER.match(title)
    if match:
        word, number = match.group(1), match.group(2)
        keys.add(f"#{number}")
        if word:
            keys.add(slugify(f"{word} {number}"))
    keys.discard("step")
    return keys


def reference_keys(name: str) -> list[str]:
    """The keys a reference tries, the exact ones first and a bare number last."""
    text = name.strip()
    keys = [text.lower(), slugify(text)]
    match = _NUMBER.match(text)
    if match and match.end() >= len(text.rstrip(" .:")):
        word, number = match.group(1), match.group(2)
        if word:
            keys.append(slugify(f"{word} {number}"))
        keys.append(f"#{number}")
    return [k for k in keys if k and k != "step"]


class Resolver:
    def __init__(self, phases: list[PhaseDraft], inner: list[tuple[str, PhaseDraft]]) -> None:
        self.keys: dict[str, PhaseDraft] = {}
        for phase in phases:  # a phase's own names win over the headings nested in another
            for key in phase.keys | heading_keys(phase.name):
                self.keys.setdefault(key.lower(), phase)
        for title, phase in inner:
            for key in heading_keys(title):
                self.keys.setdefault(key, phase)

    def add(self, phase: PhaseDraft) -> None:
        for key in phase.keys | heading_keys(phase.name):
            self.keys.setdefault(key.lower(), phase)

    def find(self, names: tuple[str, ...]) -> PhaseDraft | None:
        for name in names:
            for key in reference_keys(name):
                if key in self.keys:
                    return self.keys[key]
        return None


def link(draft: Draft, kept: list[PhaseDraft], inner: list[tuple[str, PhaseDraft]]) -> None:
    """Apply the collected edges to ``needs``, refusing cycles; report every stated edge."""
    resolver = Resolver(kept, inner)
    _declare_phases(draft, kept, resolver)
    unresolved_graphs: dict[int, list[Edge]] = {}
    for edge in draft.edges:
        a = resolver.find(edge.before)
        b = edge.phase if edge.phase is not None and not edge.after else resolver.find(edge.after)
        entry: ReportEntry = {
            "from": edge.before[0],
            "to": edge.after[0] if edge.after else (b.id if b else "?"),
            "line": edge.line,
            "via": edge.via,
        }
        if edge.via == "chain" and (a is None or b is None or a is b):
            # prose like "shift traffic -> wait" is not a dependency: report only what
            # names a phase or looks like an id
            if a or b or any(ch in edge.before[0] + edge.after[0] for ch in "-_."):
                entry.update({"applied": False, "why": _why(edge, a, b)})
                draft.report_dependency(entry)
            continue
        if edge.via == "mermaid" and a is None and b is None:
            unresolved_graphs.setdefault(edge.group, []).append(edge)
            continue
        if a is None or b is None or a is b:
            entry.update({"applied": False, "why": _why(edge, a, b)})
            draft.report_dependency(entry)
            continue
        entry.update(_apply(a, b, kept))
        draft.report_dependency(entry)
    for edges in unresolved_graphs.values():
        draft.report_dependency(
            {
                "from": "mermaid graph",
                "to": f"{len(edges)} edges",
                "line": edges[0].line,
                "via": "mermaid",
                "applied": False,
                "why": "no node names a phase (by id or label)",
            }
        )


def _why(edge: Edge, a: PhaseDraft | None, b: PhaseDraft | None) -> str:
    if a is not None and a is b:
        return "a phase cannot need itself"
    missing = [n for n, found in ((edge.before, a), (edge.after, b)) if found is None and n]
    return "no phase named " + " or ".join(repr(n[0]) for n in missing) if missing else "no phase"


def _apply(a: PhaseDraft, b: PhaseDraft, kept: list[PhaseDraft]) -> ReportEntry:
    if a.id in b.needs:
        return {"applied": True}
    b.needs.append(a.id)
    if find_cycle({p.id: list(p.needs) for p in kept}):
        b.needs.remove(a.id)
        return {"applied": False, "why": "would make a cycle (contradicts the document order)"}
    return {"applied": True}


def _declare_phases(draft: Draft, kept: list[PhaseDraft], resolver: Resolver) -> None:
    """A chain of ids stated as an order ("slice order: `a -> b -> c`") whose ids name no
    phase declares the units of work it orders: each becomes a phase after the one stating it,
    so the order is kept as ``needs`` instead of being lost in a checklist item."""
    groups: dict[int, list[Edge]] = {}
    for edge in draft.edges:
        if edge.via == "chain" and edge.declares:
            groups.setdefault(edge.group, []).append(edge)
    for edges in groups.values():
        names = [edges[0].before[0]] + [e.after[0] for e in edges]
        if any(resolver.find((n,)) for n in names) or len(set(names)) != len(names):
            continue
        stating = _stating_phase(draft, kept, edges[0].line)
        previous = stating
        for name in names:
            phase = draft.new_phase(name, edges[0].line, named=True)
            phase.metadata["declared_by"] = f"dependency chain, line {edges[0].line}"
            if previous is not None:
                phase.needs.append(previous.id)
            kept.append(phase)
            resolver.add(phase)
            previous = phase


def _stating_phase(draft: Draft, kept: list[PhaseDraft], line: int) -> PhaseDraft | None:
    before = [p for p in kept if p.line <= line and "declared_by" not in p.metadata]
    return before[-1] if before else None
