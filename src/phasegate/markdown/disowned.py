"""A fence the text right AFTER it says not to run (blind round 10, issue 11 §1).

"(the command above is what NOT to run — it is here so you recognise it in shell history)",
"Do not run the command above on production.", "Führen Sie den obigen Befehl nicht aus.",
"Ne pas exécuter la commande ci-dessus.", "No ejecutes el comando anterior.", "Не запускайте
команду выше.": the fence was shown, never ordered. Whatever the fence became (a step, a
check, a rollback action, a monitor) is taken out again and listed for review; never run on
either path.

Only a paragraph that points back at the fence ("above", "ci-dessus", "oben", "выше", …) or
says it is shown to be recognised; "Do not run the migration until …" (an order about later
work) and lead-ins ending with a colon (they introduce the NEXT fence) are not read.
"""

from __future__ import annotations

import re

from phasegate.markdown.draft import Draft, PhaseDraft

_NEGATED_ABOVE = re.compile(
    r"(?:\b(?:the|this|that)\s+(?:command|commands|line|lines|snippet|one|call|block)\s+"
    r"(?:above|shown above)\b[^.\n]{0,40}?\b(?:not|never)\b[^.\n]{0,20}?\b(?:run|execute|"
    r"use|type)|"
    r"\b(?:do not|don['’]t|never)\s+(?:run|execute|use|type|paste)\s+(?:the\s+|this\s+|that\s+)?"
    r"(?:command\s+|commands\s+|line\s+|snippet\s+)?(?:above|shown above)\b|"
    r"\bhere (?:only )?so (?:that )?you (?:can )?recogni[sz]e\b|"
    r"\b(?:obigen|oben (?:gezeigten|stehenden))\s+befehl\w*\b[^.\n]{0,40}?\bnicht\b|"
    r"\bne (?:pas|jamais) (?:ex[ée]cuter|lancer)\b[^.\n]{0,30}?\bci-dessus\b|"
    r"\bci-dessus\b[^.\n]{0,40}?\b(?:ne|n['’])\b[^.\n]{0,20}?\b(?:pas|jamais)\b|"
    r"\bno\s+(?:ejecutes|ejecute|ejecutar|lances)\b[^.\n]{0,30}?\b(?:anterior|de arriba)\b|"
    r"\bn[ãa]o\s+(?:execute|rode|executar)\b[^.\n]{0,30}?\b(?:acima|anterior)\b|"
    r"\bnon\s+eseguire\b[^.\n]{0,30}?\b(?:sopra|precedente)\b|"
    r"\bvoer\b[^.\n]{0,30}?\bhierboven\b[^.\n]{0,20}?\bniet\b|"
    r"не\s+(?:запускайте|выполняйте|запускать|выполнять)\b[^.\n]{0,30}?выше)",
    re.I,
)


def disowns(text: str) -> bool:
    """A paragraph after a fence saying that fence is not to be run."""
    flat = " ".join(text.split())
    return (
        bool(flat)
        and not flat.rstrip("*_ ").endswith((":", "："))
        and bool(_NEGATED_ABOVE.search(flat))
    )


def take_out(draft: Draft, phase: PhaseDraft | None, first: int, last: int, said: str) -> bool:
    """Remove what the fence on Markdown lines ``first``..``last`` became; True when it was
    something that would run."""
    found = False
    lists: list[list] = [draft.plan_rollback]  # type: ignore[type-arg]
    if phase is not None:
        lists += [phase.steps, phase.gates, phase.rollback, phase.monitors]
    for entries in lists:
        kept = [e for e in entries if not first <= e.line <= last]
        if len(kept) != len(entries):
            found = True
            entries[:] = kept
    if found:
        draft.note("review", line=first, what="a fence the text after it disowns", why=said)
        draft.note("data", line=first, lang="", why="the text after it says not to run it")
    return found
