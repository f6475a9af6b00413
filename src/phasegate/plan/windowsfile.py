"""``windows: path/to/windows.yaml``: change windows reused from a file (issue 13 §1).

Teams share one freeze calendar across plans. The path is read relative to the plan file (as
Ansible's ``include_vars`` and Compose's ``env_file`` resolve theirs), and the file holds the
same mapping as an inline ``windows:``. Its problems are located in that file, so the author is
sent to the line to fix; the plan's own ``windows:`` line is named when the file is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from phasegate.errors import PlanError, Problem
from phasegate.plan.pydantic_errors import problems_from_validation
from phasegate.plan.windows import Windows
from phasegate.plan.yamlsource import SourceMap, load_yaml, read_plan_text


def resolve_windows_file(data: dict[str, Any], smap: SourceMap, problems: list[Problem]) -> None:
    """Replace a path in ``data["windows"]`` by the validated rules of that file, or add the
    problems found (then ``windows`` is dropped so they are not reported twice)."""
    value = data.get("windows")
    if not isinstance(value, str):
        return
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path(smap.file).resolve().parent / path
    if not path.is_file():
        problems.append(
            smap.problem(
                ("windows",),
                f"windows file {value!r} not found (looked at {path})",
                hint="give a path relative to the plan file, or write the rules inline",
            )
        )
        del data["windows"]
        return
    try:
        raw, fsmap = load_yaml(read_plan_text(path), str(path))
    except PlanError as exc:
        problems.extend(exc.problems)
        del data["windows"]
        return
    if not isinstance(raw, dict):
        problems.append(fsmap.problem((), "a windows file holds a mapping: timezone, allow, deny"))
        del data["windows"]
        return
    try:
        data["windows"] = Windows.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, raw, (), fsmap, Windows))
        del data["windows"]
