"""Checks keep their place among the steps around them (issue 11 §8).

A section that says "Before you start, confirm: …", then the deploy command, then "Afterwards,
verify: …" means the first check guards the deploy and the second judges it. A phase's
``gates`` run after all its steps, so a check written before a step of its phase becomes that
step's ``pre_gates`` instead: verified just before it, in document order. Checks after the last
step stay the phase's gates.

Only position is not enough: authors state the outcome before the procedure ("**Success
criteria:** error rate < 1 %", then the commands). A check introduced as success / exit /
acceptance criteria, an expected result or what to verify afterwards stays after the steps
however early it is written; one introduced as a precondition ("before", "prerequisite",
"pre-flight", "ensure", "confirm") guards the step that follows it.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import CheckNode, StepNode
from phasegate.markdown.parse import Document, Item, Paragraph

_BEFORE = re.compile(
    r"\bbefore\b|\bprior to\b|pre[\s-]?(?:requisite|condition|flight|check|deploy|rollout|"
    r"migration|upgrade|install|release|cutover)|\bfirst\b|\bensure\b|\bmake sure\b|\bconfirm\b|"
    r"\brequire|readiness|go/no[\s-]?go|前提|之前",
    re.I,
)
_AFTER = re.compile(
    r"success|exit criteria|acceptance|definition of done|\bexpected\b|\bafter(?:wards?)?\b|"
    r"post[\s-]?(?:deploy|rollout|release|migration|upgrade|install|check|cutover)|outcome|"
    r"\bonce\b|\bresults?\b|之后|验收",
    re.I,
)


def keep_checks_in_place(draft: Draft, doc: Document) -> None:
    leads = _Leads(_leads(doc))
    for phase in draft.phases:
        _place(draft, phase, leads)


def _place(draft: Draft, phase: PhaseDraft, leads: _Leads) -> None:
    if not phase.steps or not phase.gates:
        return
    # A pause the importer adds (a decision, a "confirm" it cannot check) is not an action a
    # check guards: the checks before it stay where they are.
    steps = sorted((e for e in phase.steps if _acts(e)), key=lambda e: e.line)
    kept: list[Entry[CheckNode]] = []
    for gate in phase.gates:
        step = next((s for s in steps if s.line > gate.line), None)
        lead = leads.before(gate.line)
        if step is None or (_AFTER.search(lead) and not _BEFORE.search(lead)):
            kept.append(gate)
            continue
        if step.data.get("when") is not None:
            # a verify table, then "If the queue keeps growing, downgrade:": the checks are
            # no guard of that option (skipped with it when another is chosen); they run just
            # before the decision is asked, which they inform. No decision between them: they
            # stay the phase's gates (run whatever is chosen).
            decision = _decision_for(phase, gate.line, step)
            if decision is None:
                kept.append(gate)
                continue
            step = decision
        step.pre_gates.append(gate)
        name = step.data.get("name") or str(step.data.get("run", "")).split("\n")[0][:80]
        draft.note("pre_gates", phase=phase.id, line=gate.line, before=name, step_line=step.line)
    phase.gates = kept


def _decision_for(phase: PhaseDraft, after: int, option: Entry[StepNode]) -> Entry[StepNode] | None:
    """The unconditional decision, written between ``after`` and ``option``, whose choice
    ``option``'s ``when`` reads."""
    when = str(option.data.get("when"))
    # where the decision stands in the run: after every step written before the check (a
    # decision the importer put first would run the check before them)
    earlier = [n for n, e in enumerate(phase.steps) if e.line < after]
    first = max(earlier) + 1 if earlier else 0
    for entry in phase.steps[first:]:
        pause = entry.data.get("pause")
        choose = pause.get("choose") if isinstance(pause, dict) else None
        if (
            isinstance(choose, dict)
            and entry.data.get("when") is None
            and after < entry.line <= option.line
            and f"vars.{choose.get('var')} " in f"{when} "
        ):
            return entry
    return None


def _acts(entry: Entry[StepNode]) -> bool:
    """A step that changes something: a command, or work a person does by hand and
    acknowledges (a fence of comments, settings for the configuration); not a decision or a
    confirmation the importer adds."""
    if "pause" not in entry.data:
        return True
    return str(entry.data.get("name", "")).startswith(_BY_HAND)


_BY_HAND = ("Do by hand, then approve:", "Set in the configuration, then approve:")


def _leads(doc: Document) -> list[tuple[int, str]]:
    """(line, text) of every heading and paragraph, and of list items that are not task
    items or commands ("1. Before deploying, check:" over a fence): what introduces the checks
    below it, in document order."""
    found: list[tuple[int, str]] = []
    for section in doc.root.walk():
        if section.level:
            found.append((section.line, section.title))
        for block in section.blocks:
            if _introduces(block):
                found.append((block.line, getattr(block, "text", "")))
    found.sort(key=lambda pair: pair[0])
    return found


def _introduces(block: object) -> bool:
    if isinstance(block, Paragraph):
        return bool(block.text)
    return isinstance(block, Item) and block.checked is None and not block.code


class _Leads:
    """The leads of one document, looked up by line in O(log n): a scan of every lead per gate
    was a third of a second on a 2 MB document (docs/performance.md)."""

    def __init__(self, found: list[tuple[int, str]]) -> None:
        self._lines = [at for at, _ in found]
        self._texts = [said for _, said in found]
        self._last: dict[int, str] = {}

    def before(self, line: int) -> str:
        """The heading or paragraph that introduces what is at ``line`` (its last line)."""
        index = bisect_left(self._lines, line)
        if index == 0:
            return ""
        if index not in self._last:
            lines = [part for part in self._texts[index - 1].splitlines() if part.strip()]
            self._last[index] = lines[-1] if lines else ""
        return self._last[index]
