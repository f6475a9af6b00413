"""``--require-checked``: an unticked manual check fails its gate instead of pausing the run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI, items, write_plan

DOCUMENT = """
# Release

## Phase 1: Prepare

```bash
echo prepare >> ledger
```

- [x] Backups verified
- [{box}] Release manager go

## Phase 2: Deploy

```bash
echo deploy >> ledger
```
"""

GATE = "phase-1-prepare/gate:gate-2"


def document(cli: CLI, *, ticked: bool) -> Path:
    return write_plan(cli.cwd, DOCUMENT.format(box="x" if ticked else " "), name="release.md")


def test_unchecked_item_fails_the_gate_and_rolls_back(cli: CLI) -> None:
    result = cli("run", "--yes", "--require-checked", str(document(cli, ticked=False)))
    assert result.returncode == 1, result.stderr
    assert "'Release manager go'" in result.stderr
    assert "--require-checked" in result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["run"]["require_checked"] is True
    assert status["failure"]["item"] == GATE
    assert "Release manager go" in status["failure"]["message"]
    assert items(status)[GATE]["status"] == "failed"
    assert (cli.cwd / "ledger").read_text() == "prepare\n"  # phase 2 never ran
    report = cli("report", "last")
    assert "`--require-checked`" in report.stdout
    assert cli("check").returncode == 0


def test_checked_item_passes(cli: CLI) -> None:
    result = cli("run", "--yes", "--require-checked", str(document(cli, ticked=True)))
    assert result.returncode == 0, result.stderr
    status = cli.status()
    assert items(status)[GATE]["status"] == "passed"
    assert (cli.cwd / "ledger").read_text() == "prepare\ndeploy\n"


def test_without_the_flag_an_unchecked_item_pauses_for_approval(cli: CLI) -> None:
    result = cli("run", "--yes", str(document(cli, ticked=False)))
    assert result.returncode == 4, result.stderr
    status = cli.status()
    assert status["run"]["status"] == "paused"
    assert status["run"]["require_checked"] is False
    assert items(status)[GATE]["status"] == "awaiting_approval"


def test_resume_keeps_the_setting(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: strict
        on_failure: pause
        phases:
          - id: build
            steps: [{run: "echo build >> ledger", undo: "echo undo >> ledger"}]
            gates:
              - command: test -f ready
          - id: signoff
            needs: [build]
            on_failure: rollback
            steps: [{run: "true"}]
            gates:
              - {manual: "Change approved by the CAB", id: cab}
    """,
    )
    assert cli("run", "--require-checked", str(plan)).returncode == 4  # `ready` is missing
    (cli.cwd / "ready").write_text("")
    result = cli("resume", "last")  # no flag: the run's own setting applies
    assert result.returncode == 1, result.stderr
    assert "'Change approved by the CAB'" in result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["failure"]["item"] == "signoff/gate:cab"
    assert (cli.cwd / "ledger").read_text() == "build\nundo\n"


def test_plan_and_validate_show_what_would_fail(cli: CLI) -> None:
    path = str(document(cli, ticked=False))
    preview = cli("plan", "--require-checked", path)
    assert preview.returncode == 0, preview.stderr
    line = next(x for x in preview.stdout.splitlines() if "Release manager go" in x)
    assert "fails under --require-checked" in line
    backups = next(x for x in preview.stdout.splitlines() if "Backups verified" in x)
    assert "fails under" not in backups
    gates = json.loads(cli("plan", "--require-checked", "--json", path).stdout)["phases"][0]
    assert [g["fails_unchecked"] for g in gates["gates"]] == [False, True]
    assert "fails under" not in cli("plan", path).stdout

    assert cli("validate", path).returncode == 0
    strict = cli("validate", "--require-checked", path)
    assert strict.returncode == 2
    assert "'Release manager go'" in strict.stderr
    ticked = str(document(cli, ticked=True))
    assert cli("validate", "--require-checked", ticked).returncode == 0
