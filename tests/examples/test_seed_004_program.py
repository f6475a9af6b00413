"""Seed 004 as a program (examples/seeds/004-program.yaml), run for real against a sandbox:
`next` names the child that is not ready and why; a failing cutover rolls back shadow mode
and the events model too, each through its own rollback."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CLI

PLAN = Path(__file__).resolve().parents[2] / "examples" / "seeds" / "004-program.yaml"
BLOCKERS = [
    "verdict needs_work",
    "score 6 < 8",
    "blocker: retry semantics for blocked items undecided (spec section 4.3)",
    "blocker: no demo.md yet",
]


def _parent(cli: CLI) -> dict[str, object]:
    runs = cli.json("history", "--limit", "20")
    run = next(r for r in runs if r["plan_name"] == "integration-orchestrator-rollout")
    return cli.status(str(run["id"]))


def test_next_before_a_run_names_the_first_child_and_the_blocker(cli: CLI) -> None:
    assert cli("next", str(PLAN)).stdout.split()[0] == "events-model"
    data = cli.json("next", str(PLAN), "--all", "--blocked")
    assert data["order"] == ["events-model", "shadow-mode", "cutover", "blocked-flow"]
    assert [e["phase"] for e in data["actionable"]] == ["events-model"]
    blocked = {e["phase"]: e["blockers"] for e in data["blocked"]}
    assert blocked["blocked-flow"] == ["needs cutover (pending)", *BLOCKERS]


def test_program_runs_until_the_child_that_is_not_ready(cli: CLI, tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    result = cli("run", str(PLAN), "--var", f"SANDBOX={sandbox}")
    assert result.returncode == 4, result.stderr
    parent = _parent(cli)
    children = {c["phase"]: c["status"] for c in parent["program"]["children"]}  # type: ignore[index]
    assert children == {
        "events-model": "succeeded",
        "shadow-mode": "succeeded",
        "cutover": "succeeded",
    }
    assert (sandbox / "integrator" / "mode").read_text().strip() == "cutover"
    message = parent["pause"]["message"]  # type: ignore[index]
    assert all(b in message for b in BLOCKERS)
    data = cli.json("next", str(PLAN), "--blocked")
    assert data["run"] == parent["run"]["id"]  # type: ignore[index]
    assert data["actionable"] == []
    assert [(e["phase"], e["blockers"]) for e in data["blocked"]] == [("blocked-flow", BLOCKERS)]


def test_failing_cutover_rolls_back_shadow_mode_and_events_model(cli: CLI, tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    result = cli("run", str(PLAN), "--var", f"SANDBOX={sandbox}", "--var", "MISMATCH=0.02")
    assert result.returncode == 1, result.stderr
    parent = _parent(cli)
    assert parent["run"]["status"] == "rolled_back"  # type: ignore[index]
    actions = [a["key"] for a in parent["rollback"]["actions"]]  # type: ignore[index]
    assert actions == ["rollback:cutover/1", "rollback:shadow-mode/1", "rollback:events-model/1"]
    for child in parent["program"]["children"]:  # type: ignore[index]
        own = cli.status(str(child["run"]))
        assert own["run"]["status"] == "rolled_back", child["phase"]
    # Every slice undone: nothing the children wrote is left in the sandbox.
    assert sorted(p.name for p in sandbox.rglob("*") if p.is_file()) == []
