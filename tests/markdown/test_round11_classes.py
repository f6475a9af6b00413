"""The classes of the eleventh round of fixes (issue 11: the misses of red-team rounds 7–10),
each on small synthetic documents in wordings I wrote, not the blind documents' text: a rule
holds for the class in several wordings and languages, never for one document."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import CLI
from tests.markdown.cases_harness import import_case
from tests.markdown.plan_walk import (
    imported,
    manual_texts,
    roles_of,
    runs_forward,
    runs_of,
)

# -- class 1a: a table of Owner | Action | Command | Rollback, in several languages -------------

_TABLE_HEADERS = {
    "en": ("Owner", "Action", "Command", "Rollback"),
    "tr": ("Sahip", "Eylem", "Komut", "Geri alma"),
    "hu": ("Felelős", "Teendő", "Parancs", "Visszaállítás"),
    "ro": ("Responsabil", "Acțiune", "Comandă", "Revenire"),
    "de": ("Verantwortlich", "Aktion", "Befehl", "Rückfallplan"),
    "pt": ("Dono", "Ação", "Comando", "Reversão"),
}


def _table_doc(header: tuple[str, str, str, str], decide: str) -> str:
    owner, action, command, back = header
    return f"""\
        # Move the queues

        ## Steps

        | # | {owner} | {action} | {command} | {back} |
        |---|---|---|---|---|
        | 1 | Ana | create | `echo r1 >> log.txt` | `echo u1 >> log.txt` |
        | 2 | Ana | switch | `echo r2 >> log.txt` | `echo u2 >> log.txt` |
        | 3 | Lead | {decide} | — | — |
        """


@pytest.mark.parametrize("lang", sorted(_TABLE_HEADERS))
def test_a_command_table_runs_its_commands_with_the_rollback_column_as_undo(lang: str) -> None:
    data = imported(_table_doc(_TABLE_HEADERS[lang], "Is the old queue empty? Decide")).data
    steps = [s for p in data["phases"] for s in p.get("steps", []) if "run" in s]
    assert [s["run"] for s in steps] == ["echo r1 >> log.txt", "echo r2 >> log.txt"], lang
    assert [s.get("undo") for s in steps] == ["echo u1 >> log.txt", "echo u2 >> log.txt"], lang
    assert not runs_forward(data, "u1") and not runs_forward(data, "u2"), lang
    # the row with no command is a person's decision in its place, after rows 1 and 2
    names = [str(s.get("name", "")) for p in data["phases"] for s in p.get("steps", [])]
    decide = next(i for i, n in enumerate(names) if "Decide" in n)
    assert decide == 2 and any("Decide" in t for t in manual_texts(data)), (lang, names)


def test_a_command_table_undoes_the_completed_rows_in_reverse_on_a_real_failure(cli: CLI) -> None:
    """A real run: rows 1 and 2 run, the decision row pauses for a person, the check after the
    table fails, and the rollback column undoes row 2 then row 1."""
    doc = textwrap.dedent(_table_doc(_TABLE_HEADERS["tr"], "Karar ver")) + textwrap.dedent(
        """\

        ## Kontrol

        ```bash
        test -f healthy-marker
        ```
        """
    )
    imp = import_case(cli, "doc.md", doc)
    assert imp.returncode == 0, imp.stderr
    first = imp.run("--yes")
    assert first.returncode == 4, first.stderr[-3000:]  # paused at the decision row
    assert (cli.cwd / "log.txt").read_text().split() == ["r1", "r2"]
    second = imp.approve(first)
    assert second.returncode == 1
    assert (cli.cwd / "log.txt").read_text().split() == ["r1", "r2", "u2", "u1"]
