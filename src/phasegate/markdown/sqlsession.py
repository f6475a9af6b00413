"""SQL typed into the database session the document opened (blind round 9, issue 11 §4).

"Zaloguj się na serwer i otwórz psql jako postgres: ``$ ssh pay-pg-01`` ``$ sudo -u postgres psql
-d platnosci``", then a ``sql`` fence with ``CREATE INDEX CONCURRENTLY …``: the reader types the
SQL into that session. Dropped, the plan would pass without building the index (and the check
after it fails on a healthy system, or a rollback that drops the index runs for nothing). The
fence becomes a step that feeds the SQL to the same client, on the same host
(``ssh pay-pg-01 'sudo -u postgres psql -d platnosci -v ON_ERROR_STOP=1' <<'SQL' … SQL``; psql
stops at the first error), a rollback action inside a recovery section, and a manual step in the
session when its lead-in puts it under a condition ("if `maintenance_work_mem` is below 1GB,
set it for this session": a separate process would not keep the setting anyway).

Only an interactive client the document itself opened earlier counts (``psql``/``mysql``/
``mariadb`` with no command on the line); without one, a ``sql`` fence stays what it was.
"""

from __future__ import annotations

import re

from phasegate.markdown import rules, shell, words9
from phasegate.markdown.parse import Document, Fence

RULE = "fence.sql.session"  # medium confidence: the client is the one the document opened
SQL_LANGS = ("sql", "postgresql", "postgres", "psql", "pgsql", "mysql", "plpgsql")
_SHELL_LANGS = ("", "bash", "sh", "shell", "console", "terminal", "zsh", "text", "shell-session")
_CLIENT = re.compile(
    r"^\s*(?:sudo\s+(?:-[iHE]\s+)*(?:-u\s+\S+\s+)?(?:-[iHE]\s+)*)?(psql|mysql|mariadb)\b[^|<>;&]*$"
)
_HAS_COMMAND = re.compile(r"\s(?:-c|--command|-f|--file|-e|--execute|-[A-Za-z]*c)(?:\s|=|$)")
_IF = re.compile(r"^[\W_]*(?:if|unless|when|otherwise|" + words9.IF_WORDS + r")\b", re.I)
# "Then run, repeating until it reports `UPDATE 0`:", "run it again until no rows change",
# "wiederholen bis", "répétez jusqu'à", "repita até", "herhaal tot": a loop a person drives,
# reading the client's answer each time (round 11)
_REPEAT = re.compile(
    r"\b(?:repeat(?:ing|ed)?|re-?run(?:ning)?|again)\b[^.\n]{0,40}?\buntil\b|"
    r"wiederhol\w*[^.\n]{0,40}?\bbis\b|r[ée]p[ée]t\w*[^.\n]{0,40}?jusqu|"
    r"repit\w*[^.\n]{0,40}?\b(?:at[ée]|hasta)\b|herhaal\w*[^.\n]{0,40}?\btot\b|"
    r"ripet\w*[^.\n]{0,40}?\bfinch[ée]\b|powtarza\w*[^.\n]{0,40}?\ba[zż]\b",
    re.I,
)


def sessions(doc: Document) -> list[tuple[int, str, str]]:
    """(line, client command, program) of every interactive SQL client a fence opens. A
    client opened after ``ssh host`` is run as written, where the plan runs (as the
    document's own later fences do): the plan never opens an ssh session of its own."""
    found: list[tuple[int, str, str]] = []
    for section in doc.root.walk():
        for block in section.blocks:
            if not isinstance(block, Fence) or block.lang.lower() not in _SHELL_LANGS:
                continue
            for line in shell.strip_prompts(block.text, block.lang).splitlines():
                client = _CLIENT.match(line)
                if client is None or _HAS_COMMAND.search(line):
                    continue
                found.append((block.line, line.strip(), client.group(1)))
    return found


def client_for(opened: list[tuple[int, str, str]], line: int) -> tuple[str, str] | None:
    """The session open at ``line``, else None. Only a document that opens one client, one
    way: "`psql \"$DATABASE_URL\"` or explicitly `psql -h host -U user`" leaves the reader to
    pick (and fill in), and the SQL stays out of the plan as before."""
    if len({command for _, command, _ in opened}) != 1:
        return None
    before = [(command, program) for at, command, program in opened if at < line]
    return before[-1] if before else None


def script(client: str, program: str, sql: str) -> str:
    """The fence's SQL fed to the session's client, stopping at the first error."""
    # the flag right after the program: `sudo -u postgres psql -v ON_ERROR_STOP=1 -d db`
    flag = "-v ON_ERROR_STOP=1" if program == "psql" else "--batch"
    head, _, tail = client.partition(program)
    command = f"{head}{program} {flag}{tail}"
    return f"{command} <<'SQL'\n{sql.strip()}\nSQL"


def conditional(lead: str) -> bool:
    """The lead-in puts the SQL under a condition the reader checks first."""
    text = " ".join(rules.last_line(lead).split())
    return bool(_IF.match(text) or _REPEAT.search(text))
