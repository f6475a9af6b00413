"""Cases of a rollback, one or the other (lead, after blind round 9).

Under a rollback heading, parts that each state a case — sub-headings ("### If the schema
migration already ran" / "### If only the application was deployed", "When …" / "Otherwise")
or lead-ins over fences ("If the schema migration already ran:" over one, "If only the
application was deployed:" over another) — are ways back a person tells apart. Run together on
every rollback they would restore a database for an application-only failure; so they become
the phase's ``rollback_decision``, each way bound to its choice (decisions.decide_rollback).
One such part alone stays what it was ("If anything goes wrong, run:" is the way back), and
so do parts that each name a failure ("If the migration fails, restore the backup:" / "If the
deploy fails, roll back the image:"): a rollback runs because something failed, and they stay
the rollback's actions as before (binding each to its step's failure is not done yet).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from phasegate.markdown import rules, words9, words11_safety
from phasegate.markdown.parse import Block, Fence, Item, Paragraph

# "If …", "Otherwise", and the same in the languages the importer reads (words9.IF_WORDS)
_CASE = re.compile(
    r"^[\W_]*(?:only\s+)?(?:if|when|unless|in case|otherwise|else|only when|si|sinon|cuando|"
    r"wenn|falls|sonst|andernfalls|se|quando|caso|"
    + words9.IF_WORDS
    + r")\b|"
    # "Before 6.3 (…):" / "After 6.3, …:": cases told by when they happen (blind round 11)
    + words11_safety.WHEN_CASE,
    re.I,
)


def states_case(text: str) -> bool:
    """A heading or lead-in that states a case ("If the schema migration ran", "Otherwise",
    "Only if more than two nodes fail") or whose way is a person's call ("the on-call lead
    decides"). A lead-in is read by its last sentence (the one over the fence)."""
    last = rules.last_sentence(text) or text
    return bool(_CASE.match(last) or rules.is_conditional_text(last) or rules.person_decides(text))


_OTHERWISE = re.compile(r"^[\W_]*(?:otherwise|else|sinon|sonst|andernfalls)\b", re.I)


def failure_case(text: str) -> bool:
    """A case that names a failure ("If the migration fails", "Si el despliegue falla"), not
    a state of the system ("If the schema migration already ran", "Otherwise") nor a
    person's call."""
    last = rules.last_sentence(text) or text
    return (
        rules.is_conditional_text(last)
        and not _OTHERWISE.match(last)
        and not rules.person_decides(text)
    )


def one_or_the_other(cases: Sequence[str]) -> bool:
    """Two or more cases, not all of them failures: ways back a person tells apart."""
    return len(cases) >= 2 and not all(failure_case(case) for case in cases)


def case_leads(blocks: Sequence[Block]) -> list[Paragraph | Item]:
    """The lead-ins of ``blocks`` that state a case, each directly over a fence."""
    found: list[Paragraph | Item] = []
    before: Block | None = None
    for block in blocks:
        if (
            isinstance(block, Fence)
            and isinstance(before, (Paragraph, Item))
            and states_case(before.text)
        ):
            found.append(before)
        before = block
    return found
