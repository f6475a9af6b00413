"""The exported JSON Schema and the loader agree (issue 10 §3): every plan the loader accepts
validates against `phasegate schema`, generated plans and the plans the docs show alike."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.errors import PlanError
from phasegate.plan.loader import load_plan_text
from phasegate.plan.schema import SCHEMA_ID, plan_json_schema

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema.Draft202012Validator(plan_json_schema())

ident = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
words = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12)
command = st.one_of(
    st.sampled_from(["true", "./deploy.sh", "echo ${TARGET}", "test -f x"]),
    st.lists(st.sampled_from(["./deploy.sh", "--fast", "echo", "x"]), min_size=1, max_size=3),
)
duration = st.one_of(
    st.integers(0, 3600),
    st.floats(0, 100, allow_nan=False).map(lambda f: round(f, 2)),
    st.sampled_from(["500ms", "30s", "5m", "1h", "1h30m", "2d", "1.5s", "10", " 5m "]),
)
action = st.one_of(
    command,
    st.fixed_dictionaries(
        {"run": command},
        optional={
            "name": words,
            "timeout": duration,
            "idempotent": st.booleans(),
            "env": st.dictionaries(st.sampled_from(["A", "B"]), words, max_size=2),
        },
    ),
)
pause = st.one_of(
    st.just("approve"),
    duration,
    st.fixed_dictionaries({"duration": duration}),
    st.fixed_dictionaries({"until": st.just("approve")}, optional={"approvers": st.integers(1, 3)}),
)
retry = st.fixed_dictionaries({}, optional={"attempts": st.integers(1, 5), "every": duration})
common = {
    "name": words,
    "retry": retry,
    "timeout": duration,
    "severity": st.sampled_from(["fail", "warn"]),
}
check = st.one_of(
    st.fixed_dictionaries(
        {"command": command},
        optional={
            **common,
            "expect": st.fixed_dictionaries(
                {},
                optional={
                    "exit": st.one_of(st.integers(0, 3), st.just({">=": 0})),
                    "stdout_contains": words,
                },
            ),
        },
    ),
    st.fixed_dictionaries(
        {"http": st.sampled_from(["http://127.0.0.1:8080/healthz", "https://x.example/"])},
        optional={
            **common,
            "method": st.sampled_from(["GET", "post"]),
            "expect": st.fixed_dictionaries(
                {},
                optional={
                    "status": st.one_of(
                        st.integers(200, 599), st.lists(st.integers(200, 204), min_size=1)
                    ),
                    "body_contains": words,
                    "json": st.just({"$.status": "ok"}),
                },
            ),
        },
    ),
    st.fixed_dictionaries(
        {"file": st.sampled_from(["./x", "/tmp/y"])},
        optional={
            **common,
            "expect": st.fixed_dictionaries(
                {}, optional={"exists": st.booleans(), "kind": st.sampled_from(["file", "dir"])}
            ),
        },
    ),
    st.fixed_dictionaries(
        {"tcp": st.sampled_from(["127.0.0.1:5432", "db:5432"])},
        optional={**common, "expect": st.fixed_dictionaries({}, optional={"open": st.booleans()})},
    ),
    st.fixed_dictionaries({"expr": st.sampled_from(["1 + 1 == 2", "true"])}, optional=common),
    st.fixed_dictionaries(
        {"manual": words},
        optional={
            "id": ident,
            "approvers": st.integers(1, 3),
            "checked": st.booleans(),
            "prevent_self_review": st.booleans(),
        },
    ),
)
step = st.one_of(
    st.fixed_dictionaries(
        {"run": command},
        optional={
            "name": words,
            "undo": action,
            "timeout": duration,
            "retries": st.integers(0, 3),
            "backoff": duration,
            "when": st.just("1 == 1"),
            "idempotent": st.booleans(),
            "continue_on_error": st.booleans(),
        },
    ),
    st.fixed_dictionaries({"pause": pause}),
)
var = st.one_of(
    words,
    st.integers(-5, 5),
    st.booleans(),
    st.fixed_dictionaries(
        {"env": st.sampled_from(["HOME", "DEPLOY_TOKEN"])},
        optional={"secret": st.booleans(), "default": words},
    ),
    st.fixed_dictionaries({"value": words, "secret": st.just(True)}),
)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(ident, min_size=1, max_size=3, unique=True))
    phases = []
    for index, phase_id in enumerate(ids):
        phase: dict[str, Any] = {
            "id": phase_id,
            "steps": draw(st.lists(step, min_size=1, max_size=3)),
        }
        if index and draw(st.booleans()):
            phase["needs"] = [ids[index - 1]]
        if draw(st.booleans()):
            phase["gates"] = draw(st.lists(check, max_size=2))
        if draw(st.booleans()):
            phase["rollback"] = draw(st.lists(action, max_size=2))
        if draw(st.booleans()):
            phase["rollback_budget"] = draw(duration)
        phases.append(phase)
    plan: dict[str, Any] = {"version": 1, "name": draw(ident), "phases": phases}
    if draw(st.booleans()):
        plan["vars"] = draw(
            st.dictionaries(st.sampled_from(["TARGET", "TOKEN", "N"]), var, max_size=3)
        )
    if draw(st.booleans()):
        plan["defaults"] = draw(st.fixed_dictionaries({}, optional={"timeout": duration}))
    if draw(st.booleans()):
        plan["budget"] = draw(
            st.fixed_dictionaries({}, optional={"duration": duration, "rollback": duration})
        )
    if draw(st.booleans()):
        plan["on_failure"] = draw(st.sampled_from(["rollback", "pause", "abort"]))
    if draw(st.booleans()):
        plan["triggers"] = [
            {
                "name": draw(ident),
                "check": draw(check),
                "every": draw(duration),
                "fail_after": draw(st.integers(1, 3)),
            }
        ]
    return plan


def schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in VALIDATOR.iter_errors(document)
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_every_plan_the_loader_accepts_validates_against_the_schema(plan: dict[str, Any]) -> None:
    text = yaml.safe_dump(plan, sort_keys=False)
    try:
        load_plan_text(text, Path("generated.yaml"))
    except PlanError:
        return  # the loader refused it; the schema may refuse it too, or not (it is weaker)
    assert schema_errors(yaml.safe_load(text)) == [], text


def example_plans() -> list[tuple[str, str]]:
    """Every whole plan shown in the README, docs/ and examples/ (YAML code blocks with
    `phases:`, and the example .yaml files)."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```ya?ml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        for index, block in enumerate(blocks):
            if re.search(r"^phases:", block, re.M):
                found.append((f"{path.relative_to(ROOT)}#{index}", block))
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return found


EXAMPLES = example_plans()


def test_the_docs_show_whole_plans() -> None:
    names = [name for name, _ in EXAMPLES]
    assert any(name.startswith("README.md") for name in names)
    assert len(names) >= 5, names


@pytest.mark.parametrize(("name", "text"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_every_plan_example_the_loader_accepts_validates(name: str, text: str) -> None:
    try:
        load_plan_text(text, ROOT / name.split("#", maxsplit=1)[0])
    except PlanError:
        pytest.skip(f"{name} is a partial or deliberately invalid example")
    assert schema_errors(yaml.safe_load(text)) == []


def test_the_readme_undo_shorthand_validates() -> None:
    plan = {
        "version": 1,
        "name": "web",
        "phases": [
            {
                "id": "deploy",
                "steps": [{"run": "./deploy.sh", "undo": "./undeploy.sh"}],
                "rollback": ["./restore.sh", {"run": ["./restore.sh", "--all"]}],
            },
            {"id": "canary", "steps": [{"pause": "approve"}, {"pause": "30s"}, {"pause": 5}]},
        ],
    }
    load_plan_text(yaml.safe_dump(plan), Path("readme.yaml"))
    assert schema_errors(plan) == []


def test_the_exported_schema_has_an_id_and_is_what_the_cli_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "phasegate", "schema"], capture_output=True, text=True, check=True
    )
    schema = json.loads(printed.stdout)
    assert schema["$id"] == SCHEMA_ID
    assert SCHEMA_ID == "urn:phasegate:plan:v1"
    assert schema == json.loads(json.dumps(plan_json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
