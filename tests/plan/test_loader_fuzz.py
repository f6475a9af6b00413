"""Property tests of the plan loader: whatever the input, only PlanError escapes.

Inputs: random YAML documents (random structures dumped by PyYAML, with plan-like keys so
that they reach the model and semantic checks), random text and bytes, character-level edits
of a valid plan's text, and structural mutations of a valid plan (a key deleted, renamed or
given a value of another type). And the other direction: generated valid plans load.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.errors import PlanError
from phasegate.plan.loader import LoadedPlan, load_plan, load_plan_text
from phasegate.plan.variables import resolve
from phasegate.substitution import BUILTINS

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PATH = Path("fuzz.yaml")

# Keys the loader knows, so that random documents get past "unknown key" now and then.
PLAN_KEYS = [
    "version", "name", "vars", "defaults", "budget", "triggers", "phases", "id", "needs",
    "steps", "gates", "rollback", "run", "undo", "timeout", "retries", "when", "command",
    "expr", "manual", "expect", "exit", "retry", "attempts", "every", "env", "secret",
    "default", "value", "check", "fail_after", "on_failure", "stdout_regex", "hold_for",
    "cwd", "shell", "metadata", "verify_rollback", "max_parallel", "lock", "idempotent",
]  # fmt: skip

VALID_PLAN: dict[str, Any] = {
    "version": 1,
    "name": "demo",
    "vars": {"TARGET": "./t", "TOKEN": {"env": "DEPLOY_TOKEN", "secret": True, "default": "x"}},
    "defaults": {"timeout": "5m"},
    "budget": {"rollback": "5m"},
    "triggers": [
        {"name": "health", "check": {"command": "./healthy.sh"}, "every": "5s", "fail_after": 3}
    ],
    "phases": [
        {
            "id": "backup",
            "steps": [
                {
                    "name": "snapshot",
                    "run": "cp -a ${TARGET} ${RUN_DIR}/backup",
                    "undo": "rm -rf ${RUN_DIR}/backup",
                }
            ],
            "gates": [{"command": "diff -r ${TARGET} ${RUN_DIR}/backup"}],
        },
        {
            "id": "deploy",
            "needs": ["backup"],
            "steps": [{"run": ["./deploy.sh", "${TARGET}"], "when": "vars.TARGET != ''"}],
            "gates": [
                {"command": "true", "retry": {"attempts": 3, "every": "1s"}},
                {"expr": "1 < 2", "id": "sanity"},
                {"manual": "smoke-tested by a human", "id": "human"},
            ],
            "rollback": ["echo rolled back"],
        },
    ],
}
VALID_TEXT = yaml.safe_dump(VALID_PLAN, sort_keys=False)


def attempt(text: str) -> LoadedPlan | None:
    """Load; a PlanError is a fine answer but must be well formed. Anything else fails."""
    try:
        loaded = load_plan_text(text, PATH)
    except PlanError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message
            assert problem.file == str(PATH)
            assert problem.line is None or problem.line >= 1
            assert problem.column is None or problem.column >= 1
            assert problem.render()
        return None
    # What `validate` does next: a plan that loads resolves (cycles were refused at load).
    resolve(loaded.plan, {}, {n: n.lower() for n in BUILTINS}, environ={}, allow_unset_env=True)
    return loaded


def test_the_valid_plan_loads() -> None:
    loaded = attempt(VALID_TEXT)
    assert loaded is not None
    assert [p.id for p in loaded.plan.phases] == ["backup", "deploy"]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["5m", "1h30m", "-1", "abc", "${TARGET}", "${NOPE}", "$${X}", "a -> b"]),
    st.sampled_from(["true &&", "size(x) > 0", "(", "vars.X == 'y'", "[", "{", "*"]),
)
keys = st.one_of(st.sampled_from(PLAN_KEYS), st.text(max_size=10))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=40,
)


@FUZZ
@given(documents)
def test_random_documents(document: Any) -> None:
    attempt(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 1, 1, 2, "1", None])},
        optional={
            "name": st.one_of(st.just("demo"), scalars),
            "vars": documents,
            "defaults": documents,
            "triggers": documents,
            "phases": st.lists(
                st.dictionaries(keys, documents, max_size=5).map(lambda d: {"id": "p", **d}),
                max_size=4,
            ),
        },
    )
)
def test_random_plan_shaped_documents(document: dict[str, Any]) -> None:
    attempt(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    attempt(text)


# Fragments of YAML syntax, so that random text exercises tags, anchors, aliases, merges,
# complex keys, implicit types that fail to parse, flow collections and indentation.
YAML_TOKENS = [
    "\n", "\n  ", "\n    ", "\n- ", "\n  - ", " ", "\t", ": ", "- ", "? ", ", ", "# c",
    "[", "]", "{", "}", "'", '"', "|\n  ", ">\n  ", "---\n", "...\n", "%YAML 1.1\n",
    "&a ", "&b ", "*a", "*b", "<<: ", "<<: *a", "!!int ", "!!float ", "!!bool ", "!!str ",
    "!!timestamp ", "!!binary ", "!!set ", "!!omap ", "!!python/object:os.system ", "!foo ",
    "!<tag:x> ", "abc", "0b_", "0x_", "0o", "1:2:3", "2024-13-45", "2024-01-01 10:00:00",
    ".inf", "-.inf", ".nan", "~", "null", "yes", "on", "1e5", "1_000", "+12",
    "version", "name", "phases", "id", "steps", "run", "needs", "gates", "vars", "when",
    "command", "expr", "timeout", "1", "5m", "${X}", "$${X}", "\x00", "\x07", "\ufeff",
    "\u2028", "é", "😀",
]  # fmt: skip
yaml_soup = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)


@FUZZ
@given(yaml_soup)
def test_yaml_soup(text: str) -> None:
    attempt(text)


@FUZZ
@given(yaml_soup, yaml_soup)
def test_yaml_soup_inside_a_valid_plan(before: str, after: str) -> None:
    anchor = VALID_TEXT.index("  steps:")
    attempt(VALID_TEXT[:anchor] + before + VALID_TEXT[anchor:] + after)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3000), st.sampled_from(["flow-seq", "flow-map", "block"]))
def test_deep_nesting(depth: int, style: str) -> None:
    if style == "flow-seq":
        text = "metadata: " + "[" * depth + "]" * depth
    elif style == "flow-map":
        text = "metadata: " + "{a: " * depth + "1" + "}" * depth
    else:
        text = "metadata:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(depth))
    attempt("version: 1\nname: deep\n" + text + "\nphases: [{id: a, steps: [{run: x}]}]\n")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_TEXT)), st.text(max_size=4)), max_size=6))
def test_edits_of_valid_text(edits: list[tuple[int, str]]) -> None:
    text = VALID_TEXT
    for position, replacement in edits:
        at = min(position, len(text))
        text = text[:at] + replacement + text[at + len(replacement) :]
    attempt(text)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out.extend(_paths(child, (*path, index)))
    return out


ALL_PATHS = _paths(VALID_PLAN)


@FUZZ
@given(
    st.sampled_from(ALL_PATHS),
    st.sampled_from(["delete", "rename", "retype"]),
    keys,
    documents,
)
def test_mutations_of_a_valid_plan(
    path: tuple[Any, ...], how: str, new_key: str, new_value: Any
) -> None:
    plan = copy.deepcopy(VALID_PLAN)
    parent: Any = plan
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "rename" and isinstance(parent, dict):
        parent[new_key] = parent.pop(last)
    else:
        parent[last] = new_value
    attempt(yaml.safe_dump(plan, allow_unicode=True))


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_from_a_file(plan_dir: Path, data: bytes) -> None:
    path = plan_dir / "plan.yaml"
    path.write_bytes(data)
    try:
        load_plan(path)
    except PlanError as exc:
        assert all(p.message and p.file == str(path) for p in exc.problems)


# --- valid plans -------------------------------------------------------------------------

ids = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
var_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,7}", fullmatch=True).filter(
    lambda n: n not in BUILTINS
)
durations = st.one_of(
    st.integers(0, 10_000),
    st.floats(0, 1e6, allow_nan=False),
    st.builds(
        lambda n, unit: f"{n}{unit}", st.integers(0, 999), st.sampled_from(["ms", "s", "m", "h"])
    ),
    st.just("1h30m"),
)


@st.composite
def valid_plans(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(var_names, unique=True, max_size=4))
    values = st.one_of(st.text(max_size=10).filter(lambda t: "${" not in t), st.integers())
    variables: dict[str, Any] = {n: draw(values) for n in names}
    for name in names[:1]:
        variables[name] = {
            "env": "FUZZ_UNSET_" + name,
            "default": "d",
            "secret": draw(st.booleans()),
        }
    refs = ["RUN_DIR", "PLAN_DIR", *names]
    secret = {n for n in names[:1] if variables[n]["secret"]}

    def command() -> Any:
        ref = draw(st.sampled_from(refs))
        if draw(st.booleans()) or ref in secret:
            return f'echo "${{{ref}}}" && true'
        # A secret never goes in an argv list (a located error, issue 10 §1.5).
        return ["echo", f"${{{ref}}}", "$${LITERAL}"]

    phase_ids = draw(st.lists(ids, unique=True, min_size=1, max_size=5))
    phases = []
    check_no = 0
    for index, phase_id in enumerate(phase_ids):
        needs = draw(st.lists(st.sampled_from(phase_ids[:index]), unique=True)) if index else []
        steps = []
        for _ in range(draw(st.integers(0, 3))):
            step: dict[str, Any] = {"run": command()}
            if draw(st.booleans()):
                step["timeout"] = draw(durations)
            if draw(st.booleans()):
                step["retries"] = draw(st.integers(0, 5))
            if draw(st.booleans()):
                step["undo"] = command()
            if draw(st.booleans()):
                step["when"] = draw(st.sampled_from(["true", "1 < 2", "size('ab') == 2"]))
            steps.append(step)
        gates = []
        for _ in range(draw(st.integers(0 if steps else 1, 2))):
            check_no += 1
            kind = draw(st.sampled_from(["command", "expr", "manual"]))
            gate: dict[str, Any] = {
                "command": {"command": command(), "expect": {"exit": 0}},
                "expr": {"expr": "2 > 1"},
                "manual": {"manual": "looks good"},
            }[kind]
            gate["id"] = f"check-{check_no}"
            if draw(st.booleans()):
                gate["retry"] = {"attempts": draw(st.integers(1, 5)), "every": draw(durations)}
            gates.append(gate)
        phase: dict[str, Any] = {"id": phase_id, "steps": steps, "gates": gates}
        if needs:
            phase["needs"] = needs
        phases.append(phase)
    plan: dict[str, Any] = {"version": 1, "name": draw(ids), "phases": phases}
    if variables:
        plan["vars"] = variables
    if draw(st.booleans()):
        plan["defaults"] = {"timeout": draw(durations)}
    if draw(st.booleans()):
        plan["triggers"] = [
            {"name": "watch", "check": {"expr": "true"}, "every": draw(durations), "fail_after": 2}
        ]
    return plan


@FUZZ
@given(valid_plans(), st.booleans())
def test_valid_plans_load(plan: dict[str, Any], flow_style: bool) -> None:
    text = yaml.safe_dump(plan, allow_unicode=True, default_flow_style=flow_style)
    try:
        loaded = load_plan_text(text, PATH)
    except PlanError as exc:  # pragma: no cover - shown when the property fails
        raise AssertionError(f"{exc.render()}\n---\n{text}") from None
    assert [p.id for p in loaded.plan.phases] == [p["id"] for p in plan["phases"]]
    for model, raw in zip(loaded.plan.phases, plan["phases"], strict=True):
        assert model.needs == raw.get("needs", [])
        assert len(model.steps) == len(raw["steps"])
        assert [g.id for g in model.gates] == [g["id"] for g in raw["gates"]]
