"""Policy evaluation cost (issue 14 §6, goal: the starter pack on a 5,000-step plan
≤ 200 ms): a production plan of 100 phases x 50 steps (commands with env, canary stages
with analyses, approval pauses, gates), parsed and located once, then evaluated cold (a
fresh pack, as `phasegate validate` does) and warm (the server reuses its engines).
Reported per language and for the pack as it runs (each policy once, in Rego); the
number is the median of the repeats, and its ratio to the goal; beside it the best CPU
time and its ratio (on a loaded machine wall time is several times the CPU the evaluation
needs: the steadier figure to compare versions by).

Run: ``uv run python bench/policy_eval.py [PHASES STEPS REPEATS PACK_ONLY]``
(``100 50 5 1``: the pack as it runs only, five repeats).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from phasegate.policy import load_pack
from phasegate.policy.document import document_from_data

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "policies" / "starter"
GOAL_MS = 200.0


def big_plan(phases: int = 100, steps_per_phase: int = 50) -> dict[str, Any]:
    out = []
    for p in range(phases):
        steps: list[dict[str, Any]] = []
        for s in range(steps_per_phase):
            kind = s % 10
            if kind == 0:
                steps.append({"set_weight": min(99, s * 2), "bake": "5s"})
            elif kind == 1:
                steps.append({"analysis": "stage-health"})
            elif kind == 5:
                steps.append({"pause": "approve"})
            elif kind == 6:
                steps.append({"run": f"sudo systemctl restart web-{p}-{s}"})
            else:
                steps.append(
                    {
                        "name": f"step {p}.{s}",
                        "run": f"./deploy.sh --shard {p} --step {s} && curl -fsS "
                        f"http://127.0.0.1:8080/healthz",
                        "env": {"REGION": "eu-west-1", "AUTH_TOKEN": "${DEPLOY_TOKEN}"},
                        "timeout": "5m",
                    }
                )
        out.append(
            {
                "id": f"phase-{p}",
                "needs": [f"phase-{p - 1}"] if p else [],
                "steps": steps,
                "gates": [{"http": "http://127.0.0.1:8080/healthz", "expect": {"status": 200}}],
            }
        )
    out[-1]["gates"].append({"manual": "sign off", "approvers": 2, "prevent_self_review": True})
    return {
        "version": 1,
        "name": "big-production",
        "metadata": {"environment": "production"},
        "budget": {"duration": "4h", "rollback": "10m"},
        "vars": {"DEPLOY_TOKEN": {"env": "DEPLOY_TOKEN", "secret": True}, "REGION": "eu"},
        "phases": out,
    }


def measure(language: str | None, doc: Any, repeats: int, *, cold: bool) -> tuple[float, float]:
    """(median wall ms, best CPU ms): on a shared, loaded machine the process's CPU time is
    the steadier figure to compare versions by."""
    times, cpu = [], []
    pack = load_pack(STARTER)
    for _ in range(repeats):
        if cold:
            pack = load_pack(STARTER)
        began, began_cpu = time.perf_counter(), time.process_time()
        verdict = pack.evaluate_document(doc, language)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert verdict.violations == [], verdict.violations  # a clean plan: no false positive
    return statistics.median(times), min(cpu)


def main(
    phases: int = 100, steps_per_phase: int = 50, repeats: int = 3, pack_only: int = 0
) -> None:
    doc = document_from_data(big_plan(phases, steps_per_phase))
    steps = phases * steps_per_phase
    print(f"starter pack on a {steps}-step plan, median of {repeats} (goal ≤ {GOAL_MS:g} ms)")
    languages = (("pack (as run)", None), ("rego only", "rego"), ("cel only", "cel"))
    for label, language in languages[:1] if pack_only else languages:
        for cold in (True, False):
            ms, cpu = measure(language, doc, repeats, cold=cold)
            state = "cold" if cold else "warm"
            print(
                f"  {label:14s} {state}: {ms:7.1f} ms  ratio to goal {ms / GOAL_MS:.2f}"
                f"  (best CPU {cpu:.1f} ms, ratio {cpu / GOAL_MS:.2f})"
            )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
