"""Commands that are for a developer's machine, never a production rollout (issue 11 §1).

Some tools document a command as development-only: ``prisma migrate dev`` creates migrations
and may reset the database ("never use in production", Prisma's docs), ``prisma migrate
reset``, ``artisan migrate:fresh`` / ``db:wipe``, ``rails db:reset`` / ``db:drop``,
``manage.py flush`` wipe data. And authors mark others themselves: "NOT FOR PRODUCTION",
"dev only", "NO USAR EN PRODUCCIÓN", "SOLO DESARROLLO", "nur Entwicklung", "não use em
produção", "仅开发". Such a command is never a forward step: the importer keeps it in the fence
as ``# [not run: development only] …`` and lists it for review with its Markdown line.
"""

from __future__ import annotations

import re

from phasegate.markdown import words11_safety
from phasegate.markdown.memo import memo

# program, words that follow it (in order, at the start of its arguments)
_TOOL_DEV_ONLY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prisma", ("migrate", "dev")),
    ("prisma", ("migrate", "reset")),
    ("artisan", ("migrate:fresh",)),
    ("artisan", ("migrate:refresh",)),
    ("artisan", ("migrate:reset",)),
    ("artisan", ("db:wipe",)),
    ("rails", ("db:reset",)),
    ("rails", ("db:drop",)),
    ("rake", ("db:reset",)),
    ("rake", ("db:drop",)),
    ("manage.py", ("flush",)),
    ("manage.py", ("reset_db",)),
)
_WRAPPERS = frozenset({"npx", "pnpx", "bunx", "sudo", "env", "php", "python", "python3"})

# What authors write next to a command that must not run in production.
MARKER = re.compile(
    r"not (?:for|in|on) prod(?:uction)?|never (?:run |use )?(?:it )?(?:in|on) prod|"
    r"do(?: not|n't) (?:run|use) (?:this |it )?(?:in|on) prod|\bdev(?:elopment)?[\s-]only\b|"
    r"only (?:in|for|on) (?:local )?(?:dev|development)\b|"
    # "staging only, wipes the database", "test environment only" (blind round 9)
    r"\b(?:staging|sandbox)[\s-]only\b|only (?:in|on|for) staging\b|"
    r"no (?:usar|ejecutar) en producci[oó]n|solo (?:en |para )?desarrollo|"
    r"s[oó]lo (?:en |para )?desarrollo|nicht (?:in|auf) (?:der )?produktion|nur (?:f[uü]r )?"
    r"(?:die )?entwicklung|n[aã]o (?:use|usar|executar) em produ[cç][aã]o|"
    r"apenas (?:em |para )?desenvolvimento|仅(?:用于)?开发|不要在生产|禁止在生产|"
    r"仅限开发",
    re.I,
)
# A comment over a command: "# training cluster ONLY", "# test environment only" (blind round
# 11, words11_safety.py); in a sentence ("exists only for the kind cluster used in training")
# it marks a variant, not the section
COMMENT_MARKER = re.compile(MARKER.pattern + "|" + words11_safety.NONPROD_ONLY, re.I)


def tool_dev_only(words: list[str]) -> str | None:
    """Why the command ``words`` is development-only by its tool's own docs, else None."""
    names = [w.rsplit("/", 1)[-1] for w in words]
    while names and names[0] in _WRAPPERS:
        names = names[1:]
    if names[:2] in (["npm", "exec"], ["yarn", "dlx"], ["pnpm", "exec"], ["bundle", "exec"]):
        names = names[2:]
    if len(names) >= 2 and names[0] in ("yarn", "pnpm", "bun"):
        names = names[1:]  # `yarn prisma migrate dev`
    for program, args in _TOOL_DEV_ONLY:
        if names[:1] == [program] and tuple(names[1 : 1 + len(args)]) == args:
            return f"`{program} {' '.join(args)}` is for development, never production"
    return None


@memo()  # a pure function of its text (memo.py)
def marked(text: str) -> bool:
    """The text says what it is about must not run in production."""
    return bool(MARKER.search(text))


def marked_comment(text: str) -> bool:
    """A comment over a command says it is for a non-production environment alone."""
    return bool(COMMENT_MARKER.search(text))
