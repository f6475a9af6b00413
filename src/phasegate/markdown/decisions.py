"""Alternatives ("Option A / Option B", "Method 2 (NOT RECOMMENDED)") -> one decision (§1).

Running every option one after the other is never what the author meant. The options become a
decision the operator makes: a ``pause: approve`` step where the document offers the choice
(the run stops there), a variable naming the choice, and a ``when:`` on every item of each
option so that only the chosen one runs. Unchosen (the variable empty), none runs: the import
never chooses for a human.
"""

from __future__ import annotations

import re
from typing import Any

from phasegate.markdown import rules
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.parse import Section
from phasegate.plan.model import slugify


def decide(
    draft: Draft, phase: PhaseDraft, section: Section, options: list[Section]
) -> dict[int, str]:
    base = re.sub(r"[^A-Z0-9]+", "_", (section.title or phase.id).upper()).strip("_")[:40]
    var = f"DECISION_{base or len(draft.vars) + 1}"
    while var in draft.vars:
        var += "_2"
    values: list[str] = []
    for option in options:
        title = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", option.title)  # "(if automation …)"
        value = slugify(title)[:40].strip("-") or f"option-{len(values) + 1}"
        while value in values:
            value += "-2"
        values.append(value)
    choices = " | ".join(values)
    draft.vars[var] = {
        "env": var,
        "default": "",
        "description": f"the choice the document leaves to the operator: {choices}",
    }
    listed = "; ".join(
        f"{v} ({rules.one_line(o.title, 60)})" for v, o in zip(values, options, strict=True)
    )
    step: dict[str, Any] = {
        "name": f"Decide: {listed}. Approve, then resume with --var {var}=<choice>",
        "pause": "approve",
    }
    phase.steps.append(Entry(step, options[0].line))
    draft.note("steps", phase=phase.id, line=options[0].line, name=step["name"], rule="decision")
    draft.note("decisions", line=options[0].line, phase=phase.id, variable=var, choices=values)
    return {
        id(option): f"vars.{var} == '{value}'"
        for option, value in zip(options, values, strict=True)
    }
