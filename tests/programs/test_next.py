"""`phasegate next`: the pure decision against a brute-force oracle over random DAGs, statuses
and readiness (hypothesis), and the verb before a run (plan + evidence) and during one."""

from __future__ import annotations

import itertools
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.engine.nextchild import Node, dependency_order, next_children
from tests.conftest import CLI
from tests.programs.builders import child_plan

STATUSES = ("pending", "running", "succeeded", "failed")


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[Node], dict[str, str], dict[str, list[str]]]:
    n = draw(st.integers(1, 6))
    ids = [f"p{i}" for i in range(n)]
    # A random DAG: edges only from a random permutation's earlier nodes, listed in plan order
    # that is NOT necessarily topological.
    rank = draw(st.permutations(range(n)))
    nodes = []
    for i in range(n):
        earlier = [ids[j] for j in range(n) if rank[j] < rank[i]]
        needs = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
        nodes.append(Node(ids[i], tuple(needs), draw(st.booleans()) and bool(needs)))
    status = {i: draw(st.sampled_from(STATUSES)) for i in ids}
    ready = {i: ([] if draw(st.booleans()) else [f"verdict needs_work ({i})"]) for i in ids}
    return nodes, status, ready


def _oracle(
    nodes: list[Node], status: dict[str, str], ready: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    """Brute force: of all orders of the phases that respect every need, the one smallest by
    plan position, read left to right; a phase is actionable iff it has not started, its
    needs (all, or any one) succeeded, and its readiness has no blocker."""
    position = {n.id: i for i, n in enumerate(nodes)}
    valid = []
    for perm in itertools.permutations(nodes):
        seen: set[str] = set()
        ok = True
        for node in perm:
            if any(need not in seen for need in node.needs):
                ok = False
                break
            seen.add(node.id)
        if ok:
            valid.append([position[n.id] for n in perm])
    order = [nodes[i].id for i in min(valid)]
    by_id = {n.id: n for n in nodes}
    actionable = []
    for phase in order:
        node = by_id[phase]
        if status[phase] != "pending":
            continue
        done = [status[n] == "succeeded" for n in node.needs]
        met = (any(done) if node.any_of else all(done)) if node.needs else True
        if met and not ready[phase]:
            actionable.append(phase)
    return order, actionable


@settings(max_examples=300, deadline=None)
@given(programs())
def test_next_matches_brute_force_oracle(
    case: tuple[list[Node], dict[str, str], dict[str, list[str]]],
) -> None:
    nodes, status, ready = case
    order, actionable = _oracle(nodes, status, ready)
    answer = next_children(nodes, status, ready)
    assert dependency_order(nodes) == order
    assert answer.actionable == actionable
    blocked = [b.phase for b in answer.blocked]
    assert blocked == [p for p in order if status[p] == "pending" and p not in actionable]
    for entry in answer.blocked:
        node = next(n for n in nodes if n.id == entry.phase)
        unmet = any(b.startswith("needs") for b in entry.blockers)
        met = [status[n] == "succeeded" for n in node.needs]
        assert unmet == (bool(node.needs) and not (any(met) if node.any_of else all(met)))
        assert set(ready[entry.phase]) <= set(entry.blockers)


def _seed_like(cli: CLI) -> None:
    (cli.cwd / "children").mkdir()
    for name in ("events", "shadow", "cutover", "tools"):
        (cli.cwd / "children" / f"{name}.yaml").write_text(child_plan(name))
    (cli.cwd / "todos").mkdir()
    (cli.cwd / "todos" / "shadow.yaml").write_text(
        "dor: {status: needs_decision, score: 7, blockers: ['who owns the replay?']}\n"
    )
    (cli.cwd / "todos" / "tools.json").write_text('{"dor": {"status": "pass", "score": 9}}')
    ledger = cli.cwd / "ledger.txt"
    (cli.cwd / "program.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: program
            phases:
              - id: cutover
                needs: [shadow]
                run_plan: children/cutover.yaml
                vars: {{LEDGER: {ledger}}}
              - id: events
                run_plan: children/events.yaml
                vars: {{LEDGER: {ledger}}}
              - id: shadow
                needs: [events]
                run_plan: children/shadow.yaml
                vars: {{LEDGER: {ledger}}}
                ready:
                  evidence: {{file: todos/shadow.yaml}}
                  verdict: doc.dor.status
                  score: doc.dor.score
                  blockers: doc.dor.blockers
              - id: tools
                run_plan: children/tools.yaml
                vars: {{LEDGER: {ledger}}}
                ready:
                  evidence: {{file: todos/tools.json}}
                  verdict: doc.dor.status
                  score: doc.dor.score
            """
        ).lstrip()
    )


def test_next_before_and_during_a_run(cli: CLI) -> None:
    _seed_like(cli)
    plan = str(cli.cwd / "program.yaml")
    first = cli("next", plan)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["events", "(children/events.yaml)"]
    data = cli.json("next", plan, "--all", "--blocked")
    assert data["run"] is None
    assert data["order"] == ["events", "shadow", "cutover", "tools"]
    assert [e["phase"] for e in data["actionable"]] == ["events", "tools"]
    blocked = {e["phase"]: e["blockers"] for e in data["blocked"]}
    assert blocked["cutover"] == ["needs shadow (pending)"]
    assert blocked["shadow"][0] == "needs events (pending)"
    assert "verdict needs_decision" in blocked["shadow"]
    assert "blocker: who owns the replay?" in blocked["shadow"]
    text = cli("next", plan, "--blocked").stdout
    assert "blocked shadow: needs events (pending); verdict needs_decision" in text

    # During a run: events and tools succeed, shadow is not ready and holds the program.
    assert cli("run", plan).returncode == 4
    during = cli.json("next", plan, "--all", "--blocked")
    assert during["run"] is not None
    assert during["status"]["events"] == "succeeded"
    assert during["actionable"] == []
    blocked = {e["phase"]: e["blockers"] for e in during["blocked"]}
    assert blocked["shadow"][:2] == ["verdict needs_decision", "score 7 < 8"]
    assert blocked["cutover"] == ["needs shadow (pending)"]
    # The evidence changes: `next` reads it now, never a cached answer.
    (cli.cwd / "todos" / "shadow.yaml").write_text("dor: {status: pass, score: 8}\n")
    again = cli.json("next", during["run"])
    assert [e["phase"] for e in again["actionable"]] == ["shadow"]
    assert again["actionable"][0]["readiness"]["verdict"] == "pass"
