"""Programs of sandbox child plans for the tests: each child step and undo appends a line to
one ledger file, so order and exactly-once are read from it."""

from __future__ import annotations

import textwrap
from pathlib import Path


def child_plan(name: str, *, fail: bool = False, steps: int = 2, sleep: float = 0.0) -> str:
    lines = ["version: 1", f"name: {name}", "vars:", "  LEDGER: ledger.txt", "phases:"]
    lines += ["  - id: work", "    steps:"]
    for i in range(1, steps + 1):
        pause = f"; sleep {sleep}" if sleep else ""
        lines += [
            f"      - id: s{i}",
            f"        run: 'echo {name}-step-{i} >> \"$LEDGER\"{pause}'",
            f"        undo: 'echo {name}-undo-{i} >> \"$LEDGER\"'",
        ]
    if fail:
        lines += ["    gates:", "      - command: 'false'"]
    return "\n".join(lines) + "\n"


def program(
    directory: Path,
    *,
    children: int = 4,
    failing: int | None = None,
    sleep: float = 0.0,
    extra: str = "",
) -> Path:
    """A chain child-1 -> child-2 -> ... ; ``failing``: that child's gate fails."""
    (directory / "children").mkdir(parents=True, exist_ok=True)
    ledger = directory / "ledger.txt"
    phases = []
    for n in range(1, children + 1):
        name = f"child-{n}"
        (directory / "children" / f"{name}.yaml").write_text(
            child_plan(name, fail=n == failing, sleep=sleep)
        )
        needs = f"\n    needs: [c{n - 1}]" if n > 1 else ""
        phases.append(
            f"  - id: c{n}{needs}\n    run_plan: children/{name}.yaml\n"
            f"    vars: {{LEDGER: {ledger}}}"
        )
    text = "version: 1\nname: program\n" + textwrap.dedent(extra) + "phases:\n" + "\n".join(phases)
    path = directory / "program.yaml"
    path.write_text(text + "\n")
    return path


def ledger(directory: Path) -> list[str]:
    path = directory / "ledger.txt"
    return path.read_text().split() if path.exists() else []
