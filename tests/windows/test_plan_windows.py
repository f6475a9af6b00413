"""Plan-level `windows:` (inline or from a file) and phase `risk:` (issue 13 §1): located
errors for each bad field, a file resolved relative to the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan

PHASES = 'phases:\n  - id: a\n    risk: low\n    steps: [{run: "true"}]\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return [p.render() for p in caught.value.problems]


@pytest.mark.parametrize(
    ("rules", "line", "says"),
    [
        ("  timezone: Mars/Base\n", 4, "unknown timezone 'Mars/Base'"),
        ("  timezone: UTC\n  allow:\n    - hours: '9-17'\n", 6, "is not HH:MM-HH:MM"),
        ("  timezone: UTC\n  allow:\n    - hours: '08:00-24:30'\n", 6, "00:00 to 24:00"),
        ("  timezone: UTC\n  deny:\n    - dates: ['2026-02-30']\n", 6, "day is out of range"),
        (
            "  timezone: UTC\n  deny:\n    - dates: ['2026-12-01', '2026-12-26..2026-12-24']\n",
            6,
            "is reversed",
        ),
        ("  timezone: UTC\n  deny:\n    - holidays: {country: XX}\n", 6, "unknown holiday"),
        ("  timezone: UTC\n  deny:\n    - holidays: {country: US, subdiv: ZZ}\n", 6, "ZZ"),
        ("  timezone: UTC\n  deny:\n    - days: [monday]\n", 6, "days"),
    ],
)
def test_a_bad_rule_is_located(tmp_path: Path, rules: str, line: int, says: str) -> None:
    plan = write(tmp_path / "p.yaml", "version: 1\nname: p\nwindows:\n" + rules + PHASES)
    found = problems(plan)
    assert len(found) == 1, found
    assert found[0].startswith(f"{plan}:{line}:"), found
    assert says in found[0]


def test_windows_from_a_file_relative_to_the_plan(tmp_path: Path) -> None:
    write(
        tmp_path / "shared" / "freeze.yaml", "timezone: Europe/Berlin\ndeny:\n  - {days: [fri]}\n"
    )
    plan = write(
        tmp_path / "plans" / "p.yaml",
        "version: 1\nname: p\nwindows: ../shared/freeze.yaml\n" + PHASES,
    )
    loaded = load_plan(plan).plan
    assert loaded.windows is not None
    assert loaded.windows.timezone == "Europe/Berlin"
    assert loaded.windows.deny[0].days == ["fri"]
    assert loaded.phases[0].risk == "low"


def test_a_bad_windows_file_is_located_in_that_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "w.yaml", "timezone: UTC\nallow:\n  - {hours: '10:00-10:00'}\n")
    plan = write(tmp_path / "p.yaml", "version: 1\nname: p\nwindows: w.yaml\n" + PHASES)
    [found] = problems(plan)
    assert found.startswith(f"{bad}:3:") and "is empty" in found


def test_a_missing_windows_file_names_the_plan_line(tmp_path: Path) -> None:
    plan = write(tmp_path / "p.yaml", "version: 1\nname: p\nwindows: nowhere.yaml\n" + PHASES)
    [found] = problems(plan)
    assert found.startswith(f"{plan}:3:") and "nowhere.yaml" in found and "not found" in found


def test_an_unknown_risk_is_located(tmp_path: Path) -> None:
    plan = write(tmp_path / "p.yaml", "version: 1\nname: p\n" + PHASES.replace("low", "extreme"))
    [found] = problems(plan)
    assert found.startswith(f"{plan}:5:") and "extreme" in found


def test_the_exported_schema_accepts_windows_and_risk() -> None:
    import jsonschema

    from phasegate.plan.schema import plan_json_schema

    validator = jsonschema.Draft202012Validator(plan_json_schema())
    base = {"version": 1, "name": "p", "phases": [{"id": "a", "risk": "low", "steps": []}]}
    inline = {
        "timezone": "America/New_York",
        "allow": [{"days": ["mon"], "hours": "09:00-16:00", "risk": ["low"]}],
        "deny": [{"dates": ["2026-12-24..2026-12-26"], "holidays": {"country": "US"}}],
    }
    assert not list(validator.iter_errors({**base, "windows": inline}))
    assert not list(validator.iter_errors({**base, "windows": "freeze.yaml"}))
    bad = {**base, "phases": [{"id": "a", "risk": "extreme"}]}
    assert list(validator.iter_errors(bad))


def test_rollback_ignores_windows_by_default_and_a_bad_choice_is_located(tmp_path: Path) -> None:
    plain = write(tmp_path / "p.yaml", "version: 1\nname: p\nwindows:\n  timezone: UTC\n" + PHASES)
    windows = load_plan(plain).plan.windows
    assert windows is not None and windows.rollback == "ignore"
    respect = write(
        tmp_path / "r.yaml",
        "version: 1\nname: p\nwindows:\n  timezone: UTC\n  rollback: respect\n" + PHASES,
    )
    windows = load_plan(respect).plan.windows
    assert windows is not None and windows.rollback == "respect"
    bad = write(
        tmp_path / "b.yaml",
        "version: 1\nname: p\nwindows:\n  timezone: UTC\n  rollback: wait\n" + PHASES,
    )
    found = problems(bad)
    assert len(found) == 1 and found[0].startswith(f"{bad}:5:"), found
    assert "'ignore'" in found[0] and "'respect'" in found[0]
    # In a shared windows file, located in that file.
    shared = write(tmp_path / "w.yaml", "timezone: UTC\nrollback: always\n")
    plan = write(tmp_path / "f.yaml", "version: 1\nname: p\nwindows: w.yaml\n" + PHASES)
    found = problems(plan)
    assert len(found) == 1 and found[0].startswith(f"{shared}:2:"), found
