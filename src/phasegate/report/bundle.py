"""Reports written to files, linked to each other by relative file names.

Where the dashboard serves a report, a program's report links its children's reports and a
child's links its parent's (``../RUN/report``). A report written with ``-o`` is opened from
disk, or attached to a change ticket with its siblings, so its links must name files, not
dashboard URLs. The rule, in one place:

- a written report links another run's report only when that report is a file in the same
  directory: one this command writes (``--with-children``), or ``RUN_ID.EXT`` already there;
  otherwise the run id is shown without a link, so no link in a written file is dead;
- ``--with-children`` writes every child's report (and grandchildren's, for a child that is a
  program itself) next to the program's, each named ``RUN_ID.EXT``; each links its parent
  (the program's file under whatever name ``-o`` gave it) and its children.

All files share one directory, so a link is a bare file name: the set can be moved or zipped
as a whole.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import quote

from phasegate.errors import PhasegateError
from phasegate.report.data import build
from phasegate.report.document import ReportDoc
from phasegate.report.render import render
from phasegate.store.contract import JournalStore

MAX_REPORTS = 1000  # runs written at most by one --with-children (programs of programs)


def sibling_name(run_id: str, fmt: str) -> str:
    """The file name of a run's report written next to another."""
    return f"{run_id}.{fmt}"


def written_reports(
    store: JournalStore, run_ref: str, output: Path, fmt: str, *, with_children: bool = False
) -> list[tuple[Path, str]]:
    """(file, text) of RUN's report written to ``output`` and, with ``with_children``, of its
    child runs' reports beside it; links resolve to files among them or already there."""
    root = build(store, run_ref)
    docs: dict[str, ReportDoc] = {root["run"]["id"]: root}
    files: dict[str, Path] = {root["run"]["id"]: output}
    pending = deque([root])
    while with_children and pending and len(docs) < MAX_REPORTS:
        for child in _children(pending.popleft()):
            if child in docs:
                continue
            try:
                doc = build(store, child)
            except PhasegateError:
                continue  # linked but never created (the parent died first): nothing to write
            docs[child] = doc
            files[child] = output.parent / sibling_name(child, fmt)
            pending.append(doc)

    def href(run_id: str) -> str | None:
        target = files.get(run_id) or output.parent / sibling_name(run_id, fmt)
        if run_id in files or target.is_file():
            return quote(target.name)
        return None

    return [(files[run_id], render(doc, fmt, href)) for run_id, doc in docs.items()]


def _children(doc: ReportDoc) -> list[str]:
    program = doc.get("program")
    if not program:
        return []
    return [str(c["run"]) for c in program["children"] if c.get("run")]
