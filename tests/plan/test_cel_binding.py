"""The CEL binding loads without its REPL (phasegate/expr.py ``cel_binding``): the package's
``__init__`` imports ``cel.cli`` (typer, prompt_toolkit, pygments: ~250 ms at each process's
first CEL use). Checked in fresh interpreters: the expressions phasegate evaluates give the
binding's answers, and none of the REPL's modules is imported, by an expression, a policy
evaluation or `phasegate estimate`'s calibration rule."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

STARTER = Path(__file__).resolve().parents[2] / "policies" / "starter"
REPL = ("cel.cli", "typer", "prompt_toolkit", "pygments")


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_expressions_evaluate_and_the_repl_is_not_imported() -> None:
    found = _fresh(
        f"""
        import json, sys
        from phasegate.expr import evaluate, cel_binding
        out = {{
            "sum": evaluate("1 + 2 * 3", {{}}),
            "in": evaluate("'b' in xs && size(xs) == 2", {{"xs": ["a", "b"]}}),
            "match": evaluate("s.matches('^v[0-9]+$')", {{"s": "v12"}}),
            "ctx": cel_binding().evaluate("x > 1", {{"x": 2}}),
            "loaded": [m for m in {REPL!r} if m in sys.modules and m != "cel.cli"],
            "stub": getattr(sys.modules.get("cel.cli"), "__doc__", None),
        }}
        print(json.dumps(out))
        """
    )
    assert (found["sum"], found["in"], found["match"], found["ctx"]) == (7, True, True, True)
    assert found["loaded"] == []
    assert "placeholder" in str(found["stub"])


def test_a_policy_evaluation_does_not_import_the_repl() -> None:
    """The starter pack's CEL policies over a plan whose step runs `sudo` (flagged): the
    verdict names the policy, and the REPL's modules stay out."""
    found = _fresh(
        f"""
        import json, sys
        from pathlib import Path
        from phasegate.policy import load_pack
        from phasegate.policy.document import document_from_data
        plan = {{"version": 1, "name": "web", "phases": [{{"id": "a", "steps": [
            {{"id": "s", "run": "sudo systemctl restart web"}}]}}]}}
        verdict = load_pack(Path({str(STARTER)!r})).evaluate_document(
            document_from_data(plan), "cel"
        )
        print(json.dumps({{
            "policies": sorted({{v.policy for v in verdict.violations}}),
            "loaded": [m for m in {REPL!r} if m in sys.modules and m != "cel.cli"],
        }}))
        """
    )
    assert found["loaded"] == []
    assert found["policies"], "the starter pack flags a sudo step"
