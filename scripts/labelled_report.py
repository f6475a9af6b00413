"""Print how the Markdown importer fares on the labelled corpus set (issue 11, acceptance).

    uv run python scripts/labelled_report.py            # per-document and total shares, violations
    uv run python scripts/labelled_report.py --unmet    # also every unmet expectation

The expectations live in tests/markdown/labelled/*.yaml (one file per corpus document, written
by reading the document); tests/markdown/labelled_check.py evaluates them against the plan the
real importer makes.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.markdown.labelled_check import Outcome, evaluate_all, share


def main(argv: list[str]) -> int:
    outcomes = evaluate_all()
    by_doc: dict[str, list[Outcome]] = defaultdict(list)
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_doc[outcome.doc].append(outcome)
        by_kind[outcome.kind].append(outcome)
    print("per document:")
    for doc, found in sorted(by_doc.items()):
        met = sum(o.met for o in found)
        print(f"  {met:3d}/{len(found):3d} {share(found):6.1%}  {doc}")
    print("per kind:")
    for kind, found in sorted(by_kind.items()):
        met = sum(o.met for o in found)
        print(f"  {met:3d}/{len(found):3d} {share(found):6.1%}  {kind}")
    met = sum(o.met for o in outcomes)
    print(
        f"total: {met}/{len(outcomes)} expectations met ({share(outcomes):.1%}) "
        f"in {len(by_doc)} documents"
    )
    violations = [o for o in outcomes if o.safety_violation]
    print(f"safety violations: {len(violations)}")
    for outcome in violations:
        print(f"  {outcome.render()}")
    if "--unmet" in argv:
        print("unmet:")
        for outcome in outcomes:
            if not outcome.met and not outcome.safety_violation:
                print(f"  {outcome.render()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
