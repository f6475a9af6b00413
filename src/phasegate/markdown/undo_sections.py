"""A section whose heading the importer cannot classify, holding commands that undo or destroy
(blind round 12, issue 11 §1: "when unsure, ask").

"## Gotchas" over `rm -rf /var/cache/…`, "## Peruminen" over `OnlineDDL cancel` and `REVERT
VITESS_MIGRATION`, "## Dacă rularea se blochează" over `gh run cancel`, "## Temizlik (sonraki
sprint)" over `git rm -r`, "## 정리 (다음 주)" over `zfs destroy`: the heading names no role the
importer knows (no phase, no numbered step, no check, no rollback word it has), and the
commands under it take something away or go back. Run forward they would destroy or roll back
a healthy deployment; the document never said to run them on the way. Such a section becomes
a decision the operator answers (a manual gate; unchosen, nothing of it runs), never the path.

A heading that names the act itself ("## Drop the legacy table", "## Delete the old bucket",
"## Restore the dump") says to do it: that section is left to the other rules. A numbered
heading ("## 3. Wipe the new VM") is a step the author put among the steps.

The scan is one regular expression per fence line (no per-line rescans of the document).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phasegate.markdown import decisions, rules
from phasegate.markdown.parse import Section

if TYPE_CHECKING:
    from phasegate.markdown.draft import Draft, PhaseDraft

# An option and its value ("--update-failure-action rollback", "--on-failure=delete"): a
# setting of a forward command, not an undo. Removed before the scan.
_OPTION_VALUE = re.compile(r"(?<!\S)--[\w-]+(?:=\S*|\s+(?![-\s])\S+)")
# What takes something away or goes back, as a command word or a subcommand.
_UNDO = re.compile(
    r"(?:^|[\s;&|(`'\"])(?:"
    # subcommands and commands: `helm rollback`, `kubectl rollout undo`, `sqitch revert`,
    # `alembic downgrade`, `terraform destroy`, `gh run cancel`, `nodetool
    # assassinate`, `redis-cli FLUSHALL`
    r"rollback|undo|revert|downgrade|destroy|uninstall|decommission|assassinate|"
    r"removenode|flushall|flushdb|purge|wipe|cancel|abort|"
    # `aws cloudformation delete-change-set`, `aws rds delete-db-instance` (not `restore`: a
    # migration's `pg_restore` into the new database is its forward work)
    r"(?:delete|remove|drop|rollback|revert|undo|cancel|destroy)-[\w-]+"
    r")(?=$|[\s;&|)`'\"])|"
    # `--rollback` as a flag of its own (`nixos-rebuild switch --rollback`)
    r"(?<!\S)--(?:rollback|revert|undo)(?=$|\s)|"
    # SQL that removes: `DROP TABLE`, `DELETE FROM`, `TRUNCATE`
    r"\bdrop\s+(?:table|database|schema|index|column|user|role|view|keyspace|collection|"
    r"materialized)\b|\bdelete\s+from\b|\btruncate\s+(?:table\s+)?\w|"
    # `rm -rf`, `git rm -r`, `curl -X DELETE`
    r"(?<![\w-])rm\s+(?:-\w*[rRf]\w*\s+)+\S|(?<!\S)(?:-X|--request)\s*['\"]?DELETE\b",
    re.I,
)
# A heading that names the act: "Drop the legacy table", "Delete old snapshots", "Restore from
# backup", "Löschen", "Supprimer", "Eliminar", "Remover" — the document says to do it.
_NAMES_THE_ACT = re.compile(
    r"\b(?:drop(?:ping)?|delet(?:e|ing)|remov(?:e|ing|al)|destroy(?:ing)?|purg(?:e|ing)|"
    r"wip(?:e|ing)|truncat(?:e|ing)|restor(?:e|ing)|revert(?:ing)?|uninstall(?:ing)?|"
    r"decommission(?:ing)?|tear(?:ing)?[\s-]?down|teardown|l[oö]schen|entfernen|"
    r"supprim(?:er|ez)|eliminar|borrar|remover|apagar|excluir)\b",
    re.I,
)
# A heading that names forward work: "Full deploy", "Ship it", "Genomförande", "Wdrożenie",
# "Provedení", "Uygulama", "Εκτέλεση", "실행", "Pelaksanaan": the document's path.
_FORWARD_ACT = re.compile(
    r"\b(?:deploy\w*|release|roll[\s-]?out|ship(?:ping)?|upgrad\w*|updat\w*|migrat\w*|install\w*|"
    r"apply(?:ing)?|execut\w*|implement\w*|cut[\s-]?over|switch\w*|promot\w*|launch\w*|"
    r"provision\w*|prepar\w*|set[\s-]?up|start\w*|run(?:ning)?|build\w*|configur\w*|"
    r"enabl\w*|creat\w*|drain\w*|scal(?:e|ing)|go[\s-]?live|clean[\s-]?up|cleanup|tasks?|"
    r"actions?|to[\s-]?do|activit\w*|work|promozion\w*|promoci[oó]n|promo[cç][aã]o|"
    r"durchf[uü]hrung|umsetzung|ausf[uü]hrung|ejecuci[oó]n|implementaci[oó]n|despliegue|"
    r"execu[cç][aã]o|implanta[cç][aã]o|ex[ée]cution|mise en (?:œuvre|oeuvre|production)|"
    r"esecuzione|uitvoering|genomf[oö]rande|utf[oö]rande|gjennomf[oø]ring|udf[oø]relse|"
    r"wdro[zż]enie|wykonanie|realizacja|proveden[ií]|realizace|nasazen[ií]|uygulama|"
    r"y[uü]r[uü]tme|da[gğ][ıi]t[ıi]m|εκτέλεση|υλοποίηση|ανάπτυξη|выполнение|внедрение|"
    r"развертывание|виконання|впровадження|розгортання|toteutus|suoritus|käyttöönotto|"
    r"végrehajtás|telepítés|executare|implementare|implementasi|pelaksanaan|penerapan|"
    r"triển khai|thực hiện|실행|적용|배포|実施|実行|デプロイ|执行|实施|部署|ביצוע|יישום|"
    r"कार्यान्वयन|ดำเนินการ|ปรับใช้|vykdymas|diegimas|izvr[sš]enje|implementacija)",
    re.I,
)
# "Step 3 —", "Task 2:", "1.": the author put it among the steps.
_NUMBERED_STEP = re.compile(
    r"^[\W_]*(?:step|task|stage|phase|schritt|paso|passo|etapa|[ée]tape|fase|stap|steg|trin|"
    r"krok|korak|adım|adim|βήμα|шаг|крок|etap|vaihe|lépés|pas|pasul|langkah|bước|žingsnis|"
    r"단계|ステップ|步骤?|שלב|चरण|ขั้นตอน(?:ที่)?)\s*\d",
    re.I,
)


def undoes(text: str) -> bool:
    """Whether a fence's commands take something away or go back (comment lines aside)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _UNDO.search(_OPTION_VALUE.sub(" ", stripped)):
            return True
    return False


def unclassified(section: Section, phase_like: bool) -> bool:
    """A heading no rule gives a role: no phase, no numbered step, no check, no procedure,
    and it names neither the act of taking away nor a forward act ("Full deploy",
    "Genomförande", "Ship it")."""
    title = section.title.strip()
    return not (
        phase_like
        or not title
        or section.level < 2  # the document's title, or a part of it written as an H1
        or rules.is_phase_title(title)
        or _NUMBERED_STEP.match(title)
        or rules.is_verify_text(title)
        or rules.is_checklist_text(title)
        or rules.is_procedure_title(title)
        or rules.is_prerequisites_title(title)
        or _NAMES_THE_ACT.search(title)
        or _FORWARD_ACT.search(title)
    )


def ask_first(
    draft: Draft, phase: PhaseDraft, section: Section, first: int, when: str | None
) -> None:
    """The section's steps (``phase.steps[first:]``) that would run on the path, when one of
    them undoes or destroys: a decision the operator answers comes before them and they run
    only when chosen (a decision of one option: doing it, or "none")."""
    placed = [
        entry
        for entry in phase.steps[first:]
        if entry.data.get("run") and entry.data.get("when") == when
    ]
    if not any(undoes(str(entry.data["run"])) for entry in placed):
        return
    chosen = decisions.decide(draft, phase, section, [section])[id(section)]
    asked = phase.steps.pop()  # decide() appends the decision: it comes before what it holds
    phase.steps.insert(phase.steps.index(placed[0]), asked)
    for entry in placed:
        entry.data["when"] = decisions.combine(when, chosen)
    draft.note(
        "review",
        line=section.line,
        what=section.title,
        why="a heading no rule classifies over commands that undo or destroy: the operator "
        "decides whether it runs (blind round 12)",
    )
