"""The import report's vocabulary: one entry type for every list the mappers fill, and the
report document ``build_report`` returns (``phasegate import --json`` prints it as is).

Types only: the report is still plain JSON objects (TypedDicts), so the stored and printed
form (and the golden files) do not depend on this module. An entry holds the fields its list
uses; ``provenance.annotate`` adds ``rule``, ``confidence`` and ``runs`` to every mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:
    from phasegate.markdown.summary import PhaseItem

__all__ = [
    "ImportReport",
    "ProgramChild",
    "ReportEntry",
    "ReportLists",
    "ReportPhase",
    "report_list",
]

# The functional form: a dependency's ``from`` is a Python keyword.
ReportEntry = TypedDict(
    "ReportEntry",
    {
        # every entry: the Markdown line it came from (1-based)
        "line": int,
        # what the importer read and why it did what it did
        "what": str,
        "why": str,
        "name": str,
        "title": str,  # a section's heading (rollback_sections, unmapped_sections)
        "section": str,  # the heading above (reference, unmapped)
        "text": str,  # an author's comment (annotations)
        "lang": str,  # a fence's language (data)
        # where it went
        "phase": str,
        "where": str,  # "plan" or a phase id (budgets)
        "when": str | None,  # an alternative's condition (rollback)
        # checks
        "kind": str,
        "how": str,
        # triggers (and not_triggers)
        "action": str,
        "condition": str,
        "unit": str,
        "needs_binding": bool,
        "during": str | None,
        # traffic ramps and traffic gates
        "weights": list[int],
        "applied": bool,  # also dependencies: the edge became a `needs`
        "source": str,  # how the ramp was written: table, sequence …
        "gate": str,
        # budgets
        "seconds": float,
        # decisions
        "variable": str,
        "choices": list[str],
        "on": str,  # "rollback": a way back chosen when the rollback comes
        # pre_gates
        "before": str,
        "step_line": int,
        # dependencies
        "from": str,
        "to": str,
        "via": str,
        # programs (programs.py: a proposal, never applied)
        "children": list["ProgramChild"],
        "ready_from_line": int | None,
        "import_children": list[str],
        "yaml": str,
        # provenance (provenance.annotate; a mapper may name an explicit rule id itself)
        "rule": str,
        "confidence": str,
        "runs": bool,
    },
    total=False,
)


class ProgramChild(TypedDict):
    """A child runbook of a proposed program (markdown/programs.py)."""

    line: int
    text: str
    runbook: str | None
    phase: str


# The report's lists by name (steps, checks, rollback, triggers, review, …): what mappers fill
# through ``Draft.note`` and what ``provenance`` reads back by list name.
ReportLists = dict[str, list[ReportEntry]]


class ReportPhase(TypedDict):
    """A phase of the imported plan: its counts, then (provenance) its line, rule and items."""

    id: str
    steps: int
    gates: int
    line: NotRequired[int]
    rule: NotRequired[str]
    confidence: NotRequired[str]
    items: NotRequired[list[PhaseItem]]


class ImportReport(TypedDict, total=False):
    """What ``phasegate import`` reports, key by key in the order it prints them.

    Besides these keys the report holds every list of :data:`ReportLists` under its own name
    (the ones below are those a reader names; a mapper may start a new list with
    ``Draft.note``)."""

    source: str
    plan: str | None
    counts: dict[str, int]
    phases: list[ReportPhase]
    steps: list[ReportEntry]
    checks: list[ReportEntry]
    rollback: list[ReportEntry]
    rollback_checklist: list[ReportEntry]
    rollback_sections: list[ReportEntry]
    dependencies: list[ReportEntry]
    data: list[ReportEntry]
    annotations: list[ReportEntry]
    unmapped: list[ReportEntry]
    unmapped_sections: list[ReportEntry]
    ambiguous: list[ReportEntry]
    triggers: list[ReportEntry]
    traffic: list[ReportEntry]
    needs_binding: list[ReportEntry]
    recovery: list[ReportEntry]
    decisions: list[ReportEntry]
    reference: list[ReportEntry]
    monitors: list[ReportEntry]
    manual: list[ReportEntry]
    skipped: list[ReportEntry]
    review: list[ReportEntry]
    mdx: list[ReportEntry]
    assumptions: list[ReportEntry]  # "If green is live, swap the colours in every command"
    programs: list[ReportEntry]
    prompts: list[ReportEntry]  # commands that stop for a person's typed answer
    notebook: list[ReportEntry]  # notebook cells (IPython) a person runs in the notebook
    by_hand: list[ReportEntry]  # actions written only in prose, done by a person
    repeats: list[ReportEntry]  # "repeat for the other nodes" without a loop (repeats.py)
    asciidoc: list[ReportEntry]  # AsciiDoc read as Markdown (asciidoc.py)
    variables: list[str]
    confidence_levels: dict[str, str]
    not_executable: list[str]
    executable: bool


def report_list(report: ImportReport, kind: str) -> list[ReportEntry]:
    """The report's list named ``kind`` (a name chosen at run time), [] when it has none."""
    found = report.get(kind)
    return found if isinstance(found, list) else []
