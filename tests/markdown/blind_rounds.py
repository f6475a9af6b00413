"""What every blind round's test does (tests/markdown/test_blind_round*.py): read a round's
labelled documents (``<folder>/*.yaml`` beside ``*.md``, the kinds of labelled_check.py), check
each expectation strictly both ways (one carrying ``xfail: "importer today: …"`` must still
fail, every other must be met; ``executable_xfail`` for the document-level claim), and check
that the labels cite their Markdown lines and say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.markdown import labelled_check as lc


def specs(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["doc"] = path.stem + ".md"
        out.append(spec)
    return out


def xfail_reasons(spec: dict[str, Any]) -> list[str | None]:
    """One entry per outcome ``lc.evaluate`` yields, in its order: the expectations, then
    the document-level ``executable``."""
    reasons: list[str | None] = [exp.get("xfail") for exp in spec.get("expectations", [])]
    if "executable" in spec:
        reasons.append(spec.get("executable_xfail"))
    return reasons


def check_expectations(folder: Path, spec: dict[str, Any]) -> None:
    outcomes = lc.evaluate(lc.import_doc(folder / spec["doc"]), spec)
    reasons = xfail_reasons(spec)
    assert len(outcomes) == len(reasons)
    missed, now_met = [], []
    for outcome, reason in zip(outcomes, reasons, strict=True):
        where = f"{outcome.kind} {outcome.label!r} (line {outcome.line})"
        if reason is None and not outcome.met:
            missed.append(f"{where}: {outcome.detail}")
        elif reason is not None and outcome.met:
            now_met.append(f"{where}: now met, remove its xfail ({reason})")
    assert not missed and not now_met, "\n".join(missed + now_met)


def check_labels(folder: Path, at_least: int) -> None:
    """Every expectation cites the Markdown line it reads and says why; a command's line
    holds the command it names (commands are matched on that line's text)."""
    found = specs(folder)
    assert len(found) >= at_least
    for spec in found:
        lines = (folder / spec["doc"]).read_text(encoding="utf-8").splitlines()
        for exp in spec.get("expectations", []):
            assert exp["kind"] in lc.KINDS, (spec["doc"], exp)
            assert str(exp.get("why", "")).strip(), (spec["doc"], exp)
            assert "xfail" not in exp or str(exp["xfail"]).strip(), (spec["doc"], exp)
            line = exp.get("line")
            assert isinstance(line, int) and 1 <= line <= len(lines), (spec["doc"], exp)
            if exp["kind"] in ("forward", "never_forward", "rollback", "never_ending"):
                assert exp["cmd"].lower() in lines[line - 1].lower(), (spec["doc"], exp)
        if "executable" in spec:
            assert str(spec.get("executable_why", "")).strip(), spec["doc"]
