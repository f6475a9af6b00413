"""``phasegate policy test DIR``: a pack's own test cases, run in each language.

``DIR/tests/*.yaml`` hold cases::

    cases:
      - name: a canary stage with no analysis
        plan: {version: 1, name: x, phases: [...]}    # or plan_file: path/to/plan.yaml
        expect:                                       # exactly these violations
          - {policy: traffic-change-verified, field: "phases[0].steps[0].set_weight"}

A case passes when the violations found are exactly the expected ones (policy and field),
in every language the expected policies are written in: a policy written in Rego and CEL is
tested twice, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan
from phasegate.plan.yamlsource import load_yaml
from phasegate.policy.document import PlanDocument, document_from_data, plan_document
from phasegate.policy.errors import PolicyPackError
from phasegate.policy.pack import LANGUAGES, Pack

Key = tuple[str, str]  # (policy, field)


@dataclass
class CaseResult:
    file: str
    name: str
    language: str
    missing: list[Key] = field(default_factory=list)
    unexpected: list[Key] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unexpected


def run_tests(pack: Pack) -> list[CaseResult]:
    folder = pack.directory / "tests"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise PolicyPackError(
            f"policy pack {pack.directory}: no test cases (tests/*.yaml)",
            hint="see docs/policies.md, 'Testing a pack'",
        )
    written = {"rego": {p.name for p in pack.rego}, "cel": {p.name for p in pack.cel}}
    results: list[CaseResult] = []
    for path in files:
        for name, doc, expected in _cases(path):
            for language in LANGUAGES:
                names = written[language]
                if not names:
                    continue
                verdict = pack.evaluate_document(doc, language)
                found = {(v.policy, v.field) for v in verdict.violations}
                want = {key for key in expected if key[0] in names}
                results.append(
                    CaseResult(
                        str(path),
                        name,
                        language,
                        sorted(want - found),
                        sorted(found - want),
                    )
                )
    return results


def _cases(path: Path) -> list[tuple[str, PlanDocument, set[Key]]]:
    try:
        data, smap = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except PlanError as exc:
        raise PolicyPackError(exc.render()) from None
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise PolicyPackError(f"{path}: a test file is a mapping with `cases:` (a list)")
    out = []
    for i, case in enumerate(cases):
        where = smap.problem(("cases", i), "").location()
        if not isinstance(case, dict) or ("plan" in case) == ("plan_file" in case):
            raise PolicyPackError(f"{where}: a case has a name, `plan:` or `plan_file:`, `expect:`")
        name = str(case.get("name") or f"case {i + 1}")
        if "plan_file" in case:
            try:
                doc = plan_document(load_plan(path.parent / str(case["plan_file"])))
            except PlanError as exc:
                raise PolicyPackError(f"{where}: {exc.render()}") from None
        elif isinstance(case["plan"], dict):
            doc = document_from_data(case["plan"], f"{path}#{name}")
        else:
            raise PolicyPackError(f"{where}: `plan:` is a mapping (a plan as YAML)")
        out.append((name, doc, _expected(case.get("expect") or [], where)))
    return out


def _expected(raw: Any, where: str) -> set[Key]:
    if not isinstance(raw, list):
        raise PolicyPackError(f"{where}: `expect:` is a list of {{policy, field}}")
    out = set()
    for item in raw:
        if not isinstance(item, dict) or "policy" not in item:
            raise PolicyPackError(f"{where}: each expected violation has `policy:` (and `field:`)")
        out.add((str(item["policy"]), str(item.get("field") or "")))
    return out
