"""What keeps a valid plan from running as written: everything marked ``needs_binding``.

``phasegate import`` marks what the document does not say (a trigger's metric source, the
router behind a traffic table); such a plan validates, so it can be reviewed and committed, but
``run`` refuses it and ``validate`` lists each blocker with its line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from phasegate.errors import PlanError, Problem
from phasegate.plan.loader import LoadedPlan
from phasegate.plan.yamlsource import Path_, format_path


@dataclass(frozen=True)
class Blocker:
    path: Path_
    what: str
    line: int | None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {format_path(self.path)}: needs binding: {self.what}"

    def as_dict(self) -> dict[str, str | int | None]:
        return {"field": format_path(self.path), "line": self.line, "needs_binding": self.what}

    def problem(self, file: str) -> Problem:
        return Problem(
            f"needs binding: {self.what}",
            file=file,
            line=self.line,
            field=format_path(self.path),
            hint="supply it in the plan and remove `needs_binding` (see docs/markdown-import.md)",
        )


def refuse_unbound(loaded: LoadedPlan) -> None:
    """Raise PlanError (exit 2, nothing runs) when the plan still needs binding."""
    found = blockers(loaded)
    if found:
        file = loaded.smap.file
        raise PlanError(
            [b.problem(file) for b in found],
            headline=f"plan is valid but not executable as written ({len(found)} to bind)",
        )


def blockers(loaded: LoadedPlan) -> list[Blocker]:
    plan = loaded.plan
    found: list[tuple[Path_, str]] = []
    if plan.traffic is not None and plan.traffic.needs_binding:
        found.append((("traffic",), plan.traffic.needs_binding))
    for name, spec in plan.vars.items():
        binding = getattr(spec, "needs_binding", None)
        env = getattr(spec, "env", None)
        if binding and not (env and os.environ.get(env)):
            found.append((("vars", name), f"{binding} (set ${env})" if env else binding))
    for index, trigger in enumerate(plan.triggers):
        if trigger.needs_binding:
            found.append((("triggers", index), trigger.needs_binding))
    for p_index, phase in enumerate(plan.phases):
        for s_index, step in enumerate(phase.steps):
            if step.needs_binding:
                found.append((("phases", p_index, "steps", s_index), step.needs_binding))
    out = []
    yaml_lines = loaded.text.splitlines()
    for path, what in found:
        line, _ = loaded.smap.locate((*path, "needs_binding"))
        if loaded.source_sha256 is not None and line is not None and not loaded.smap_in_document:
            line = _source_line(yaml_lines, line)
        out.append(Blocker(path, what, line))
    return out


_SOURCE_REF = re.compile(r"^\s*#\s*\S+:(\d+)\s*$")


def _source_line(yaml_lines: list[str], line: int) -> int | None:
    """For a plan imported from Markdown: the document line, from the nearest `# doc.md:N`
    comment the importer wrote above the entry."""
    for text in reversed(yaml_lines[: line - 1]):
        match = _SOURCE_REF.match(text)
        if match:
            return int(match.group(1))
    return None
