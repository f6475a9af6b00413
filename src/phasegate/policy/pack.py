"""A policy pack: a directory of ``*.rego`` and ``*.cel.yaml`` policies (and ``tests/``).

A policy may be written in both languages (``x.rego`` and ``x.cel.yaml``, the same name):
it is one policy, evaluated once, in the language ``pack.yaml``'s ``prefer:`` names (``rego``
unless it says ``cel``); `phasegate policy test` checks that both give the same verdicts.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phasegate.plan.loader import LoadedPlan
from phasegate.policy.cel import CelEngine, CelPolicy, read_cel
from phasegate.policy.document import PlanDocument, plan_document
from phasegate.policy.errors import PolicyPackError
from phasegate.policy.model import Verdict, Violation
from phasegate.policy.rego import RegoEngine, RegoPolicy, read_rego

ENV = "PHASEGATE_POLICIES"
LANGUAGES = ("rego", "cel")


@dataclass
class Pack:
    directory: Path
    rego: list[RegoPolicy] = field(default_factory=list)
    cel: list[CelPolicy] = field(default_factory=list)
    prefer: str = "rego"

    def __post_init__(self) -> None:
        self._engines: dict[str, tuple[RegoEngine, CelEngine]] = {}

    @property
    def names(self) -> list[str]:
        return sorted({p.name for p in self.rego} | {p.name for p in self.cel})

    def engines(self, language: str | None = None) -> tuple[RegoEngine, CelEngine]:
        """The engines that evaluate the pack: each policy once (``language`` None), or every
        policy written in ``language`` (``policy test``)."""
        key = language or "pack"
        if key not in self._engines:
            if language == "rego":
                chosen: tuple[list[RegoPolicy], list[CelPolicy]] = (self.rego, [])
            elif language == "cel":
                chosen = ([], self.cel)
            elif self.prefer == "cel":
                cel_names = {p.name for p in self.cel}
                chosen = ([p for p in self.rego if p.name not in cel_names], self.cel)
            else:
                rego_names = {p.name for p in self.rego}
                chosen = (self.rego, [p for p in self.cel if p.name not in rego_names])
            self._engines[key] = (RegoEngine(chosen[0]), CelEngine(chosen[1]))
        return self._engines[key]

    def evaluate_document(self, doc: PlanDocument, language: str | None = None) -> Verdict:
        rego, cel = self.engines(language)
        found = rego.evaluate(doc.data) + cel.evaluate(doc.data, doc.has)
        located = []
        for violation in found:
            line, column = doc.locate(violation.path)
            located.append(dataclasses.replace(violation, file=doc.file, line=line, column=column))
        order = {"hard": 0, "soft": 1, "advisory": 2}
        located.sort(key=lambda v: (order[v.level], v.line or 0, v.column or 0, v.policy))
        return Verdict(_distinct(located))

    def evaluate(self, loaded: LoadedPlan) -> Verdict:
        return self.evaluate_document(plan_document(loaded))


def _distinct(violations: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, str, tuple[Any, ...], str]] = set()
    out = []
    for v in violations:
        key = (v.policy, v.level, v.path, v.message)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def load_pack(directory: str | Path) -> Pack:
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise PolicyPackError(
            f"policy pack {root}: no such directory",
            hint="--policies (or $PHASEGATE_POLICIES) names a directory of *.rego and "
            "*.cel.yaml files",
        )
    pack = Pack(root)
    for path in sorted(root.iterdir()):
        if path.name.endswith(".rego") and path.is_file():
            pack.rego.append(read_rego(path))
        elif path.name.endswith(".cel.yaml") and path.is_file():
            pack.cel.append(read_cel(path))
    for language, policies in (("rego", pack.rego), ("cel", pack.cel)):
        names = [p.name for p in policies]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PolicyPackError(
                f"policy pack {root}: {language} policy {', '.join(twice)} is defined twice"
            )
    if not pack.rego and not pack.cel:
        raise PolicyPackError(
            f"policy pack {root}: no *.rego or *.cel.yaml policies in it",
            hint="is this the right directory?",
        )
    pack.prefer = _prefer(root)
    return pack


def _prefer(root: Path) -> str:
    manifest = root / "pack.yaml"
    if not manifest.is_file():
        return "rego"
    import yaml

    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyPackError(f"{manifest}: not YAML: {exc}") from None
    prefer = data.get("prefer", "rego") if isinstance(data, dict) else None
    if prefer not in LANGUAGES:
        raise PolicyPackError(f"{manifest}: prefer is {prefer!r}, not rego or cel")
    return str(prefer)


def pack_from_option(directory: str | None) -> Pack | None:
    """The pack ``--policies DIR`` names, else ``$PHASEGATE_POLICIES``, else none."""
    chosen = directory or os.environ.get(ENV) or None
    return load_pack(chosen) if chosen else None
