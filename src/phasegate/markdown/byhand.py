"""A fence a named person runs, answering its prompts or deciding to: done by hand (blind
round 9, issue 11 §1, §7).

"The DBA on call runs (and answers the prompt with the candidate name):" over a ``patronictl
switchover``: the plan cannot answer the prompt, and running it unasked would decide for the DBA.
The fence becomes a manual step naming its command (the operator runs it and approves), and the
plan is not "executable as written" while a command waits for an answer typed at a terminal.
Inside a recovery ("If there is no leader at all, the DBA may force a failover:") such a fence
is a rollback checklist item for the person, never an action an automatic rollback runs.
"""

from __future__ import annotations

import re

from phasegate.markdown import mutation, rules

# "answers the prompt", "answer `yes` when asked", "reply to the prompt", "type the
# candidate name when prompted"
_PROMPT = re.compile(
    r"\b(?:answers?|respond\w*|repl(?:y|ies))\s+(?:to\s+)?(?:the\s+|its\s+|each\s+|a\s+)?"
    r"(?:prompts?|questions?)\b|\bwhen (?:prompted|asked)\b|\banswers? (?:it|them) by hand\b",
    re.I,
)
# "The DBA on call runs", "the release manager types", "Only the on-call SRE executes", "the
# DBA may force a failover", "der DBA führt aus"
_ROLE = (
    r"(?:dba|sre|operator|engineer|admin\w*|lead|owner|commander|on[\s-]?call\w*|person|human|"
    r"approver|release manager|incident commander|db team|database team|manager)"
)
_PERSON_RUNS = re.compile(
    r"^[\W_]*(?:[^,:;.]{0,60},\s*)?(?:only\s+)?(?:the|a|an|our)?\s*(?:[\w-]+\s+){0,2}?"
    + _ROLE
    + r"\b[^.:\n]{0,30}?"
    r"\b(?:runs?|types?|executes?|performs?|may|can choose to)\b",
    re.I,
)


def person_runs(lead: str) -> str | None:
    """Why the fence after ``lead`` is a person's to run, else None."""
    text = " ".join(rules.last_sentence(lead).split()) or lead
    if _PROMPT.search(lead):
        return "a person answers its prompt"
    if _PERSON_RUNS.search(text):
        return "a named person runs it"
    return None


def chosen(lead: str, script: str) -> bool:
    """ "Only after one week without issues (the catalog lead decides), raise the FCV:", "If
    there is no backup, skip this step": whether (or when) the fence runs is a person's
    choice: a decision, asked in the flow, whatever the length of the lead-in. A step one may
    skip that only reads ("skip the wait if the queue was empty") stays on the path."""
    text = " ".join(lead.split())
    if rules.person_decides(text) or rules.defers(text):
        return True
    return rules.skips_step(text) and mutation.mutates(script) is not None


def label(lead: str, script: str, why: str) -> str:
    lead = rules.one_line(lead, 100).rstrip(": ")
    return f"by hand ({why}): {lead}: `{rules.one_line(script.strip(), 160)}`"
