"""A step's outputs are values kept in the journal: bounded as GitHub bounds its own
(engine/outputs_file.py). A step that wrote 50 MB to ``$PHASEGATE_OUTPUT`` put 50 MB into
its ``item.finished`` event, read again by every view of the run."""

from __future__ import annotations

import json
from pathlib import Path

from phasegate.engine.outputs_file import (
    FILE_LIMIT,
    KEYS_LIMIT,
    VALUE_LIMIT,
    parse,
    parse_outputs,
    read_noted,
    read_outputs,
)
from tests.conftest import CLI, write_plan


def test_a_value_over_the_limit_is_left_out_never_cut() -> None:
    text = f"small=ok\nbig={'v' * (VALUE_LIMIT + 1)}\nedge={'e' * VALUE_LIMIT}\nsmall=again\n"
    found = parse_outputs(text)
    assert found == {"small": "again", "edge": "e" * VALUE_LIMIT}


def test_keys_past_the_limit_are_not_kept_but_known_keys_still_update() -> None:
    lines = [f"k{i}=v" for i in range(KEYS_LIMIT + 50)] + ["k0=last"]
    found = parse_outputs("\n".join(lines))
    assert len(found) == KEYS_LIMIT and found["k0"] == "last" and f"k{KEYS_LIMIT}" not in found
    note = parse("\n".join(lines)).note()
    assert note is not None and f"{KEYS_LIMIT + 50} keys, only the first {KEYS_LIMIT} kept" in note


def test_only_the_files_first_megabyte_is_read_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "out"
    filler = "x=" + "f" * 1000 + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("first=1\n")
        handle.write(filler * (FILE_LIMIT // len(filler) + 5))
        handle.write("late=1\n")
    found = read_outputs(path)
    assert found["first"] == "1" and "late" not in found and found["x"] == "f" * 1000
    note = read_noted(path).note()
    assert note is not None and f"over the {FILE_LIMIT}-byte limit" in note
    assert read_noted(tmp_path / "missing").note() is None


def test_a_run_keeps_the_values_within_the_limits_and_says_what_it_left_out(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: outputs
        phases:
          - id: p
            steps:
              - id: s
                run: |
                  echo "small=ok" >> "$PHASEGATE_OUTPUT"
                  python3 -c 'print("big=" + "v" * 200_000)' >> "$PHASEGATE_OUTPUT"
            gates:
              - expr: "steps.s.outputs.small == 'ok'"
        """,
    )
    run = cli("run", str(plan))
    assert run.returncode == 0, run.stderr
    said = run.stdout + run.stderr
    assert f"values over {VALUE_LIMIT} bytes left out: big" in said
    assert "values over" in cli("logs", "last", "p/s").stdout
    status = json.loads(cli("status", "last", "--json").stdout)
    assert "v" * 1000 not in json.dumps(status)
    db = cli.state_dir / "phasegate.db"
    assert b"v" * 1000 not in db.read_bytes()
