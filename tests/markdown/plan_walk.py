"""What an imported plan runs, walked for the round tests (test_round9_classes.py,
test_round10_classes.py): every executable item with its role and condition, whether a command
runs unconditionally forward, the texts a person answers, the placeholders that need binding."""

from __future__ import annotations

import textwrap
from typing import Any

from phasegate.markdown import ImportResult, import_markdown


def imported(doc: str) -> ImportResult:
    return import_markdown(textwrap.dedent(doc), "DOC.md")


def code_of(text: object) -> str:
    """What runs: comment lines (``# [not run: …]`` among them) taken out."""
    return "\n".join(ln for ln in str(text).splitlines() if not ln.lstrip().startswith("#"))


def runs_of(data: Any) -> list[tuple[str, str, str | None]]:
    """Every executable item as (role, text, when): step, gate, rollback (phases and plan)."""
    out: list[tuple[str, str, str | None]] = []
    for phase in data["phases"]:
        for step in phase.get("steps", []):
            for gate in step.get("pre_gates", []):
                out.append(("gate", code_of(gate.get("command", "")), None))
            if "run" in step:
                out.append(("step", code_of(step["run"]), step.get("when")))
        for gate in phase.get("gates", []):
            if "command" in gate:
                out.append(("gate", code_of(gate["command"]), None))
        for action in phase.get("rollback", []):
            out.append(("rollback", code_of(action.get("run", "")), action.get("when")))
    for action in data.get("rollback", []) or []:
        out.append(("rollback", code_of(action.get("run", "")), action.get("when")))
    return out


def runs_forward(data: Any, needle: str) -> bool:
    """``needle`` runs unconditionally on the forward path."""
    return any(
        role in ("step", "gate") and when is None and needle in text
        for role, text, when in runs_of(data)
    )


def roles_of(data: Any, needle: str) -> list[tuple[str, str | None]]:
    return [(role, when) for role, text, when in runs_of(data) if needle in text]


def manual_texts(data: Any) -> list[str]:
    out = []
    for phase in data["phases"]:
        out += [str(s.get("name", "")) for s in phase.get("steps", []) if "pause" in s]
        gates = [g for s in phase.get("steps", []) for g in s.get("pre_gates", [])]
        out += [str(g["manual"]) for g in [*gates, *phase.get("gates", [])] if "manual" in g]
    return out


def bindings_of(data: Any) -> list[str]:
    found = [str(v["needs_binding"]) for v in data.get("vars", {}).values() if "needs_binding" in v]
    return found + [
        str(t["needs_binding"]) for t in data.get("triggers", []) if "needs_binding" in t
    ]
