"""A person's part in a way back (issue 11 §7, blind rounds 8 and 9): the prose of a rollback
section that leaves the rollback to a person — a call ("Only if the numbers look wrong to
finance:", "Decide with the service owner before reverting", "Decida com o dono do serviço
antes de reverter") or an act done by hand first ("select the old kernel in GRUB through the
iDRAC console (by hand), then:").

An automatic rollback must not make that call nor skip that act: the way back becomes the
phase's ``rollback_decision`` (the rollback pauses there, exit 4, and the person asked reads
the document's sentence), its actions bound to the choice. Said over the fence (a lead-in) or
after it in the same section (a note): both come before the action runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown import decisions, prose_actions, rules, words11

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft, PhaseDraft
    from phasegate.markdown.parse import Section

# "look wrong to finance", "seem off to the data team", "if finance is not happy"
_JUDGED = re.compile(
    r"\b(?:looks?|seems?|appears?)\s+(?:\w+\s+){0,2}?(?:wrong|off|bad|incorrect|suspicious)\s+"
    r"to\s+(?:the\s+)?[\w#@-]+|\bat the (?:request|discretion) of\b|\bif\s+(?:the\s+)?"
    r"[\w#@-]+(?:\s+team)?\s+(?:asks?|requests?|says? so|agrees?|approves?|signs? off)\b",
    re.I,
)
# "decide with the service owner", "agree it with", "check with the DBA first", in the
# languages the importer reads
_DECIDE_WITH = re.compile(
    r"\b(?:decide|agree|clear|align|talk|consult)(?:\s+(?:it|this|that|first))?\s+with\b|"
    r"\b(?:check|confirm)(?:\s+(?:it|this|that|first))?\s+with\s+(?:the\s+|your\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:owner|team|lead|dba|sre|manager|on[\s-]?call|commander|finance|"
    r"product|support)\b|\bonly after (?:talking|speaking|agreeing|checking) (?:to|with)\b|"
    r"\bdecid[ae]\s+(?:com|con)\b|\b(?:converse|combine|alinhe|fale|consulte|acuerde|hable)\s+"
    r"(?:com|con)\b|\bin absprache mit\b|\bnach r[üu]cksprache mit\b|\bmit\s+(?:dem|der|den)\s+"
    r"[\w-]+\s+(?:abstimmen|entscheiden|kl[äa]ren)\b|\bd[ée]cidez avec\b|\ben accord avec\b|"
    r"\bdecidi con\b|\bustal\w* z\b|\bdomluv\w* s\b|\brozhodn\w* s\b|\bkom överens med\b|"
    r"\bbespreek met\b|ile (?:karar|görüş)\w*|\bputuskan (?:bersama|dengan)\b",
    re.I,
)
# a by-hand act the sentence orders (in prose_actions' words and a few more)
_BY_HAND = re.compile(
    r"\bru[čc]n[eě]\b|\belle\b|χειροκίνητα|ידנית|手工|\b(?:through|via|in|from) the\s+"
    r"(?:\w+\s+)?(?:console|web ui|ui|bmc|idrac|ilo|ipmi)\b|\bp[řr]es\s+\w*\s*(?:idrac|ilo|"
    r"konzol\w*)\b|\b(?:idrac|ilo|ipmi)\b",
    re.I,
)


# "If the rollback itself fails, … page #platform": what a person does after a way back that
# failed, no call before it; "do not delete the secrets by hand": no act ordered
_AFTER_FAILED = re.compile(
    r"\b(?:roll[\s-]?back|revert\w*|undo|restore)\s+(?:itself\s+|also\s+)?(?:fails|failed|"
    r"does not work|doesn't work|errors?)\b",
    re.I,
)
_NEGATED_HAND = re.compile(
    r"\b(?:do not|don't|never|not|nicht|não|no|nie|ne)\b[^.;]{0,50}?(?:by hand|manually|"
    r"von hand|manuell|manualmente|ru[čc]n[eě]|r[eę]cznie)",
    re.I,
)


_APPROVAL = re.compile(words11.APPROVAL, re.I)  # "팀장 승인 후에만", "only after … approval"


def persons_part(text: str) -> str | None:
    """Why the way back in ``text``'s section is a person's to start, else None."""
    flat = " ".join(text.split())
    if _AFTER_FAILED.search(flat):
        return None
    flat = _NEGATED_HAND.sub(" ", flat)
    if _JUDGED.search(flat):
        return "a person judges whether it is needed"
    if _DECIDE_WITH.search(flat):
        return "decided with a person before it runs"
    if rules.person_decides(flat) or _APPROVAL.search(flat):
        return "a person decides"
    if prose_actions.by_hand(flat) or _BY_HAND.search(flat):
        return "a person does part of it by hand first"
    return None


def bind_section(
    draft: Draft, phase: PhaseDraft | None, section: Section, text: str, line: int
) -> bool:
    """ "**Atenção:** … Decida com o dono do serviço antes de reverter." after the rollback's
    fences: the actions this section added so far (unbound to any choice) wait for that
    person's decision; True when it bound any."""
    if persons_part(text) is None:
        return False
    target = phase.rollback if phase is not None else draft.plan_rollback
    mine = [e for e in target if section.line <= e.line <= line and "when" not in e.data]
    if not mine:
        return False
    # the person asked reads the sentence that leaves it to them, first
    said = [s for s in prose_actions.sentences(text) if persons_part(s)] or [text]
    way = decisions.Lead(rules.one_line(f"{' '.join(said)} ({section.title})", 120), line)
    when = decisions.decide_rollback(draft, phase, section, [way])[id(way)]
    for entry in mine:
        entry.data = {**entry.data, "when": when}
    return True
