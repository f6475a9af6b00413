"""The rule behind every mapping of a Markdown import, and how sure the importer is (issue 11 §12).

Every entry of an import report that says what became of a piece of the document (a step, gate,
rollback action, trigger, traffic ramp, decision, note or skipped block) gets

- ``rule``: a stable id, ``<source>.<role>[.<reason>]``: the source is what the Markdown line
  is (``fence.bash``, ``fence.untagged``, ``list``, ``task``, ``table``, ``paragraph``,
  ``heading``, ``directive``), the role what it became (``forward``, ``check``, ``rollback``,
  ``manual``, ``trigger``, ``note`` …), the reason why when the role came from around it
  (``rollback.if-fails``: under an "If … fails:" lead-in). docs/markdown-import.md lists them.
- ``confidence``: ``high``, ``medium`` or ``low`` (:data:`CONFIDENCE` says what each means).

The rule is derived from the report entry (its list and fields, which the mapper already
records) and from what the Markdown line is, so the mapper needs no report vocabulary. A
low-confidence entry that would run something is added to ``review`` with its line, and the
plan is then not "executable as written" (:func:`verdict`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from phasegate.markdown import cmdexe, fishshell, powershell
from phasegate.markdown.parse import Block, Comment, Document, Fence, Item, Paragraph, Table
from phasegate.markdown.shell import SHELL_LANGS
from phasegate.markdown.summary import Recorded, phase_items

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft
    from phasegate.markdown.entries import ImportReport, ReportEntry
    from phasegate.markdown.nodes import ItemNode, PlanNode

HIGH, MEDIUM, LOW = "high", "medium", "low"
CONFIDENCE = {
    HIGH: "the document says it: a shell-tagged fence, a task box, a heading or lead-in that "
    "names the role, a table column, an author directive",
    MEDIUM: "read from context the importer recognises (a 'verify' heading, a fence without a "
    "language read as shell by its content, inline code in a list item, a threshold's "
    "wording); usually right, worth a look",
    LOW: "a guess the importer cannot stand behind (an expectation read loosely, a non-bash "
    "block run by bash, an expected output left unchecked): listed under review; the plan is "
    "not executable as written while one would run",
}
# Report lists whose entries are mappings of the document (the others are warnings).
MAPPINGS = (
    "steps",
    "checks",
    "rollback",
    "rollback_checklist",
    "manual",
    "monitors",
    "triggers",
    "covered",
    "traffic",
    "decisions",
    "recovery",
    "rollback_sections",
    "reference",
    "data",
    "annotations",
    "unmapped",
    "unmapped_sections",
    "dependencies",
    "budgets",
)
WARNINGS = ("review", "ambiguous", "needs_binding", "mdx")
_UNTAGGED = frozenset({"", "text", "txt", "plain", "plaintext", "none"})
_PAUSES = {
    "decision": ("heading.alternatives.decision", HIGH),
    "numbered prose procedure": ("list.numbered.manual", HIGH),
    "sign-off table": ("table.signoff.approval", HIGH),
}


@dataclass(frozen=True)
class Mapping:
    rule: str
    confidence: str
    runs: bool = False  # executes something when the plan runs (forward, check, rollback …)
    doubt: str = ""  # why the confidence is low


class _Lines:
    """What each Markdown line is: the innermost block that spans it, or a heading."""

    def __init__(self, doc: Document | None) -> None:
        self.spans: list[tuple[int, int, Block]] = []
        self.headings: set[int] = set()
        self.directives: set[int] = set()  # lines right after a `<!-- phasegate: … -->`
        self._starts: list[int] = []
        if doc is None:
            return
        for section in doc.root.walk():
            if section.level:
                self.headings.add(section.line)
            for block in section.blocks:
                end = block.line + _height(block)
                self.spans.append((block.line, end, block))
                if isinstance(block, Comment) and "phasegate" in block.text:
                    self.directives.update({end + 1, end + 2})
        self.spans.sort(key=lambda s: s[0])
        self._starts = [s[0] for s in self.spans]

    def block(self, line: int) -> Block | None:
        # Blocks follow one another (none holds another), so the container is among the
        # last few that start at or before the line; looking back a little is enough.
        index = bisect.bisect_right(self._starts, line)
        found: tuple[int, int, Block] | None = None
        for start, end, block in reversed(self.spans[max(0, index - 4) : index]):
            if start <= line <= end and (found is None or end - start < found[1] - found[0]):
                found = (start, end, block)
        return found[2] if found else None

    def source(self, line: int) -> str:
        block = self.block(line)
        if isinstance(block, Fence):
            return f"fence.{lang_class(block.lang)}"
        if isinstance(block, Item):
            return "task" if block.checked is not None else "list"
        if isinstance(block, Table):
            return "table"
        if isinstance(block, Comment):
            return "directive"
        if line in self.headings:
            return "heading"
        if isinstance(block, Paragraph):
            return "paragraph"
        return "document"

    def directed(self, line: int) -> bool:
        block = self.block(line)
        attrs = block.attrs if isinstance(block, Fence) else {}
        start = block.line if block is not None else line
        return bool(attrs) or start in self.directives


def _height(block: Block) -> int:
    if isinstance(block, Fence):
        return block.text.count("\n") + 1  # the opening line, the text, the closing line
    if isinstance(block, Table):
        return len(block.rows) + 1
    return block.text.count("\n")


def lang_class(lang: str) -> str:
    lowered = lang.lower()
    if lowered in SHELL_LANGS:
        return "bash"
    if lowered in _UNTAGGED:
        return "untagged"
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "untagged"


class _Deriver:
    def __init__(self, report: ImportReport, lines: _Lines, rollback_purpose: bool) -> None:
        self.lines = lines
        self.rollback_purpose = rollback_purpose
        self.ambiguous = {a["line"]: a.get("what", "") for a in report.get("ambiguous") or []}
        self.text_lines = {
            r["line"]: str(r.get("why", "")) for r in report.get("review") or [] if "line" in r
        }
        reasons = [(s["line"], "heading") for s in report.get("rollback_sections") or []]
        for r in report.get("recovery") or []:
            reasons.append((r["line"], "if-fails" if r.get("why") == "conditional" else "lead-in"))
        self.rollback_reasons = sorted(reasons)

    def derive(self, kind: str, entry: ReportEntry) -> Mapping:
        line = int(entry.get("line") or 0)
        src = self.lines.source(line)
        method = getattr(self, f"_{kind}", None)
        if method is not None:
            found: Mapping = method(entry, line, src)
        else:  # a list added later: still named by where it came from
            found = Mapping(f"{src}.{kind.replace('_', '-')}", MEDIUM)
        if found.runs and line in self.ambiguous:
            return Mapping(found.rule, LOW, True, self.ambiguous[line])
        return found

    def unrecorded(self, role: str, line: int, data: ItemNode) -> ReportEntry:
        """The rule of a plan item no report entry recorded, from what it is and where."""
        src = self.lines.source(line)
        if "pause" in data:  # a person decides or acts: the run waits, nothing is guessed
            return {"rule": f"{src}.{role}.pause", "confidence": HIGH}
        if "set_weight" in data:
            return {"rule": f"{src}.traffic.weight", "confidence": MEDIUM}
        found = self._runs(src, "forward" if role == "step" else role, line)
        return {"rule": found.rule, "confidence": found.confidence}

    # -- what runs ------------------------------------------------------------------------

    def _steps(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        rule = str(entry.get("rule") or "")
        if rule in _PAUSES:
            return Mapping(*_PAUSES[rule])
        if rule == "human decision":
            return Mapping(f"{_prose(src)}.confirm.pause", HIGH)
        if rule == "manual check of an alternative":
            return Mapping(f"{src}.manual.alternative", HIGH)
        if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", rule):  # an explicit rule id
            return Mapping(rule, str(entry.get("confidence") or MEDIUM), True)
        if rule.startswith("check"):  # a check of one option, run as a step when chosen
            return self._runs(src, "alternative.check", line)
        role = "forward"
        if self.rollback_purpose:
            role += ".rollback-runbook"  # a rollback runbook run forward performs it
        return self._runs(src, role, line)

    def _runs(self, src: str, role: str, line: int) -> Mapping:
        if self.lines.directed(line):
            return Mapping(f"directive.{role}", HIGH, True)
        if src == "fence.bash":
            return Mapping(f"{src}.{role}", HIGH, True)
        if src in ("fence.untagged", "list", "table", "task"):
            name = {"list": "list.code", "task": "task.code", "table": "table.command"}
            return Mapping(f"{name.get(src, src)}.{role}", MEDIUM, True)
        if src.startswith("fence.") and src.split(".", 1)[1] in powershell.TAGS:
            return Mapping(f"{src}.{role}", MEDIUM, True)  # run by pwsh (powershell.py)
        if src.startswith("fence.") and src.split(".", 1)[1] in cmdexe.TAGS | fishshell.TAGS:
            return Mapping(f"{src}.{role}", MEDIUM, True)  # run by cmd.exe / fish
        if src.startswith("fence."):
            lang = src.split(".", 1)[1]
            return Mapping(f"{src}.{role}", LOW, True, f"a `{lang}` block is run by bash")
        return Mapping(f"{src}.{role}", MEDIUM, True)

    def _checks(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        role = "verify-rollback" if entry.get("phase") == "verify_rollback" else "check"
        how = str(entry.get("how") or "")
        if entry.get("kind") == "manual":
            if src == "task":
                return Mapping(f"task.manual.{role}", HIGH)
            if src.startswith("fence."):
                return Mapping(f"fence.text.manual-{role}", MEDIUM)
            return Mapping(f"{src}.checklist.manual-{role}", MEDIUM)
        if how == "author annotation" or self.lines.directed(line):
            return Mapping(f"directive.{role}", HIGH, True)
        if src in ("fence.sql", "fence.postgresql", "fence.mysql", "fence.sqlite", "fence.promql"):
            return Mapping(f"{src}.{role}", MEDIUM, True)
        if src == "table":  # "Test | Command | Expected": the columns say it
            return Mapping(f"table.command.{role}", HIGH, True)
        expect = "" if how.startswith("exit 0") else ".expect"
        found = self._runs(src, role + expect, line)
        return Mapping(
            found.rule, MEDIUM if found.confidence == HIGH else found.confidence, True, found.doubt
        )

    def _rollback(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        rule = str(entry.get("rule") or "")
        if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", rule):  # an explicit rule id
            return Mapping(rule, str(entry.get("confidence") or MEDIUM), True)
        reason = "section"
        index = bisect.bisect_right(self.rollback_reasons, (line, "~"))
        if index:
            reason = self.rollback_reasons[index - 1][1]
        if self.lines.directed(line):
            return Mapping(f"directive.rollback.{reason}", HIGH, True)
        return self._runs(src, f"rollback.{reason}", line)

    def _triggers(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.trigger.{entry.get('action') or 'rollback'}", MEDIUM, True)

    def _traffic(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        if not entry.get("applied"):
            return Mapping(f"{src}.traffic.not-applied", HIGH)
        stated = entry.get("source") or src
        return Mapping(f"{stated}.traffic.ramp", HIGH if stated == "table" else MEDIUM, True)

    # -- what a human does ----------------------------------------------------------------

    def _manual(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        why = self.text_lines.get(line, "")
        what = "text" if why.endswith("not run") or not why else "never-ending"
        return Mapping(f"fence.{what}.manual", MEDIUM)

    def _monitors(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        # A never-ending observation command: run beside its phase, never as a step or gate.
        return Mapping(f"{src}.monitor", MEDIUM, True)

    def _rollback_checklist(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.rollback.manual", HIGH)

    def _decisions(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping("heading.alternatives.decision", HIGH)

    # -- what was read but not run --------------------------------------------------------

    def _covered(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.trigger.covered", MEDIUM)

    def _recovery(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        what = "if-fails" if entry.get("why") == "conditional" else "rollback-lead-in"
        return Mapping(f"{_prose(src)}.{what}", HIGH)

    def _rollback_sections(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping("heading.rollback", HIGH)

    def _reference(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.reference.note", HIGH)

    def _data(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        why = str(entry.get("why") or "")
        if "skip" in why:
            return Mapping("directive.skip", HIGH)
        if why == "not shell":
            return Mapping(f"fence.{lang_class(str(entry.get('lang') or ''))}.data", HIGH)
        return Mapping(f"{src}.skipped", HIGH)

    def _annotations(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping("directive.comment", HIGH)

    def _unmapped(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        what = str(entry.get("what") or "")
        if what == "command reference table":
            return Mapping("table.reference.note", HIGH)
        if what.startswith("table row"):
            return Mapping("table.row.note", MEDIUM)
        return Mapping(f"{src}.prose.note", HIGH)

    def _unmapped_sections(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping("heading.prose.note", HIGH)

    def _dependencies(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.dependency", MEDIUM if entry.get("applied") else HIGH)

    def _budgets(self, entry: ReportEntry, line: int, src: str) -> Mapping:
        return Mapping(f"{src}.rollback-budget", MEDIUM)


def _prose(src: str) -> str:
    return src if src in ("heading", "paragraph", "list", "task") else "paragraph"


def _warning_rule(kind: str, entry: ReportEntry) -> str:
    what = str(entry.get("what") or "")
    if kind == "needs_binding":
        for word in ("placeholder", "trigger", "traffic", "database"):
            if word in what.lower():
                return f"binding.{word}"
        return "binding.value"
    if kind == "ambiguous":
        return "expectation.ambiguous"
    if kind == "mdx":
        return "mdx.review"
    why = str(entry.get("why") or "")
    return "fence.text.review" if why.endswith("not run") else "fence.never-ending.review"


def annotate(report: ImportReport, draft: Draft, doc: Document | None) -> None:
    """Give every mapping its rule and confidence, every warning its rule, every phase its
    rule and items; add the low-confidence mappings that would run to ``review``."""
    deriver = _Deriver(report, _Lines(doc), draft.rollback_purpose)
    # The report holds the draft's lists themselves (build_report): their entries are updated
    # in place, read by list name from the draft.
    lists = draft.report
    doubtful: list[ReportEntry] = []
    for kind in (*MAPPINGS, *(k for k in lists if k not in MAPPINGS and k not in WARNINGS)):
        entries = lists.get(kind)
        if not isinstance(entries, list) or kind in WARNINGS:
            continue
        for entry in entries:
            if not isinstance(entry, dict) or "line" not in entry:
                continue
            found = deriver.derive(kind, entry)
            entry.update({"rule": found.rule, "confidence": found.confidence, "runs": found.runs})
            if found.runs and found.confidence == LOW:
                what = entry.get("name") or entry.get("what") or entry.get("kind") or kind
                doubtful.append(
                    {
                        "line": entry["line"],
                        "what": str(what),
                        "why": f"low confidence ({found.rule}): {found.doubt or 'a guess'}",
                        "rule": found.rule,
                        "confidence": LOW,
                    }
                )
    for kind in WARNINGS:
        for entry in lists.get(kind) or []:
            entry.setdefault("rule", _warning_rule(kind, entry))
    report.setdefault("review", []).extend(doubtful)
    report["review"].sort(key=lambda r: r.get("line") or 0)
    _phases(report, draft, deriver)
    report["confidence_levels"] = dict(CONFIDENCE)


def _phases(report: ImportReport, draft: Draft, deriver: _Deriver) -> None:
    """Each phase of the plan with its line, rule and items (what the review summary shows)."""
    recorded = Recorded(draft.report, deriver.unrecorded)
    by_id = {p.id: p for p in draft.phases}
    for phase in report.get("phases") or []:
        source = by_id.get(phase["id"])
        if source is None:
            continue
        phase["line"] = source.line
        if source.named:
            phase.update({"rule": "heading.phase", "confidence": HIGH})
        elif source.name in ("preamble", "document"):
            phase.update({"rule": f"document.{source.name}", "confidence": MEDIUM})
        else:  # a section with commands but no phase word: a phase of its own
            phase.update({"rule": "heading.section", "confidence": MEDIUM})
        phase["items"] = phase_items(source, recorded)


def _lines(entries: Sequence[ReportEntry]) -> str:
    """The first eight entries' Markdown lines, as a verdict's reason names them."""
    return ", ".join(str(entry["line"]) for entry in entries[:8])


def verdict(report: ImportReport, data: PlanNode) -> list[str]:
    """Why the plan is not executable as written ([] when it is): a blocker to bind, a
    low-confidence mapping that would run, or a plan that runs nothing."""
    reasons: list[str] = []
    binding = report.get("needs_binding") or []
    if binding:
        lines = _lines(binding)
        reasons.append(f"{len(binding)} to bind (lines {lines})")
    low = [r for r in report.get("review") or [] if r.get("confidence") == LOW]
    if low:
        lines = _lines(low)
        reasons.append(f"{len(low)} low-confidence mapping(s) would run (lines {lines})")
    assumed = report.get("assumptions") or []
    if assumed:
        lines = _lines(assumed)
        reasons.append(
            f"the commands hold only in the case the document assumes (lines {lines}): "
            "confirm it holds, or edit them as the document says"
        )
    mdx = report.get("mdx") or []
    if mdx:
        lines = _lines(mdx)
        reasons.append(
            f"an MDX page: {len(mdx)} import(s)/component(s) (lines {lines}) stand for content "
            "this document does not hold"
        )
    prompts = report.get("prompts") or []
    if prompts:
        # `terraform apply` without a saved plan, a script asking [y/N]: a person types the
        # answer at a terminal; unattended it hangs or reads none (blind round 7)
        lines = _lines(prompts)
        reasons.append(
            f"{len(prompts)} command(s) stop for an answer typed at a terminal (lines {lines})"
        )
    cells = report.get("notebook") or []
    if cells:
        # `%env PGHOST=…`, `!psql …` in an exported notebook: what the cells set and do is
        # not in the plan's shell; the shell steps after them may read it (blind round 8)
        lines = _lines(cells)
        reasons.append(
            f"a notebook export: {len(cells)} cell(s) of IPython (lines {lines}) run in the "
            "notebook, not by the plan, and the steps after them may read what they set"
        )
    by_hand = report.get("by_hand") or []
    if by_hand:
        # "スコープに `Dept-Sales` を追加する。", "Click **Promote**": the rollout is partly done
        # by a person in a console; the run only asks whether it was done (blind round 8)
        lines = _lines(by_hand)
        reasons.append(
            f"{len(by_hand)} part(s) of the rollout are actions written in prose (lines "
            f"{lines}): a person does them by hand and the run only asks"
        )
    repeated = report.get("repeats") or []
    if repeated:
        # "Repeat for the other nodes": the commands name one host (repeats.py, round 11)
        lines = _lines(repeated)
        reasons.append(
            f"{len(repeated)} instruction(s) to repeat the steps elsewhere without a loop "
            f"(lines {lines}): a person repeats them, or write one step per value"
        )
    asciidoc = report.get("asciidoc") or []
    if asciidoc:
        # `[source,bash]` over `----`, `== Section`: another markup, read through a translation;
        # a person checks what it became before the plan is trusted (blind round 8)
        reasons.append(
            f"the document is AsciiDoc read as Markdown (from line {asciidoc[0]['line']}): "
            "check what its blocks and sections became"
        )
    if not does_something(data):
        reasons.append(
            "it runs nothing: no step runs a command or moves traffic and no gate checks "
            "anything a machine can check (only notes, manual steps and manual gates)"
        )
    elif not does_something(data, unconditional=True):
        # a page of responses to situations ("High error rate alert: …"): the operator picks
        # one each time; run as written it would only ask
        reasons.append(
            "nothing runs unless the operator chooses it: every command waits for a decision "
            "(options or situations the document leaves to a person)"
        )
    return reasons


def does_something(data: PlanNode, unconditional: bool = False) -> bool:
    """Whether the plan runs a command, moves traffic or checks something a machine can check
    (with ``unconditional``: without a `when:` bound to a decision)."""
    for phase in data.get("phases") or []:
        for step in phase.get("steps") or []:
            if unconditional and step.get("when") is not None:
                continue
            if "run" in step or "set_weight" in step:
                return True
        for gate in phase.get("gates") or []:
            if not ("manual" in gate or "pause" in gate):
                return True
    return False
