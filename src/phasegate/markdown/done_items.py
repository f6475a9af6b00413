"""What the document says was already done: never run again (blind round 9, issue 11 §1, §7).

A ticked task item with a command (``- [x] Backfill batch for October (Friday, do not repeat):
`./backfill --month 2026-10 --append` ``) or a run-sheet row marked done (``| T-24h ✅ | SRE |
Config deployed | `helm upgrade …` |``) records work done before this run: running it again
would repeat it (a backfill that appends doubles its rows, an older config overwrites the live
one). It becomes a manual confirmation naming the command (the operator confirms it was done),
never a step or a check that runs it.
"""

from __future__ import annotations

import re

from phasegate.markdown import mutation, rules
from phasegate.markdown.nodes import CheckNode

# a cell that says "done": a mark alone or beside a label ("T-24h ✅", "[x]", "✔ done",
# "erledigt", "klaar", "完了", "已完成"); not "✅ 200" in an expectation column (not read here)
_DONE_CELL = re.compile(
    r"^\s*(?:\S[^|]{0,20}?\s)?(?:\[[xX✓]\]|☑️?|✅|✔️?)\s*$|^\s*(?:\[[xX✓]\]|☑️?|✅|✔️?)(?:\s|$)|"
    r"^\s*(?:done|completed?|erledigt|fertig|klaar|gedaan|hecho|terminé|feito|完了|已完成|完成)"
    r"\s*(?:\(.*\))?\s*$",
    re.I,
)


def cell_done(cell: str) -> bool:
    return bool(_DONE_CELL.match(cell))


def row_done(row: list[str], skip: tuple[int | None, ...]) -> bool:
    """A table row some cell of which (not the command's or the expectation's) marks done."""
    return any(cell_done(cell) for i, cell in enumerate(row) if i not in skip)


def confirmation(text: str, command: str) -> CheckNode:
    """The person confirms the work was done; the command is named, never run."""
    said = rules.one_line(text, 120) if text.strip() else "done earlier"
    return {
        "manual": f"done earlier, confirm only (do not run again): {said} — `{command}`",
    }


# "**Success criteria:**", "Definition of done", "Acceptance": ticked boxes there state what
# must hold; a command that only reads is still checked (it repeats nothing)
_JUDGES = re.compile(
    r"criteri|acceptance|definition of done|success|abnahme|erfolg|verif|validat|smoke|health|"
    r"验收|成功",
    re.I,
)


def ticked_done(command: str, context: str) -> bool:
    """A ticked item's command is work done earlier: never run again; under success criteria
    a command that only reads stays a check."""
    judged = bool(_JUDGES.search(context))
    return mutation.mutates(command) is not None or not judged
