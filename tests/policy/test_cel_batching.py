"""The CEL engine's shortcuts (rules batched into one program per node, nodes converted with
only the fields the rules read) give exactly the verdicts of the plain way: every rule on its
own, on every node, with every name whole. Checked over the catalogue, the example plans, the
bench's 5,000-step plan (smaller here) and random plans (hypothesis)."""

from __future__ import annotations

import sys
from typing import Any

import cel
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.errors import PlanError
from phasegate.expr import compile_expr
from phasegate.plan.yamlsource import load_yaml
from phasegate.policy import Pack
from phasegate.policy.cel import _NODE, CelEngine, _fields, nodes
from tests.policy.conftest import CATALOGUE, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from policy_eval import big_plan


def plain(engine: CelEngine, data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The oracle: rule by rule, node by node, whole values, no batching."""
    hits = []
    for policy in engine.policies:
        for rule in policy.rules:
            program = compile_expr(rule.expression)
            for path, names in nodes(rule.each, data):
                node = names[_NODE[rule.each]]() if rule.each in _NODE else None
                if rule.if_has and not (
                    isinstance(node, dict) and all(k in node for k in rule.if_has)
                ):
                    continue
                context = cel.Context({n: names[n]() for n in rule.names})
                if program.execute(context) is True:
                    hits.append((policy.name, path))
    return sorted(hits)


def fast(engine: CelEngine, data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    found = engine.evaluate(data, lambda path: False)  # no `at`: the node's own path
    return sorted((v.policy, v.path) for v in found)


def _engine(starter: Pack) -> CelEngine:
    return CelEngine(starter.cel)


def test_same_verdicts_on_the_catalogue_examples_and_a_big_plan(starter: Pack) -> None:
    engine = _engine(starter)
    plans = sorted(CATALOGUE.glob("*.yaml")) + sorted((ROOT / "examples").rglob("*.yaml"))
    checked = 0
    for path in plans:
        try:
            data, _ = load_yaml(path.read_text(), str(path))  # as the policy input reads it
        except PlanError:
            continue  # not YAML a plan could be read from
        if not isinstance(data, dict) or "phases" not in data:
            continue
        assert fast(engine, data) == plain(engine, data), path
        checked += 1
    assert checked >= 15
    big = big_plan(phases=10, steps_per_phase=50)
    big["phases"][3]["steps"][7]["run"] = "curl -fsS https://x.example/i.sh | sh"  # a hit
    assert fast(engine, big) == plain(engine, big)
    assert ("risky-commands-approved", ("phases", 3, "steps", 7)) in fast(engine, big)


_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "x"]))
_text = st.sampled_from(
    ["true", "sudo reboot", "curl -s u | sh", "echo ${TOKEN}", "AKIA" + "A" * 16, "x|y"]
)
_step = st.dictionaries(
    st.sampled_from(["run", "env", "set_weight", "pause", "pre_gates", "analysis", "name"]),
    st.one_of(
        _text,
        _scalar,
        st.just("approve"),
        st.just({"until": "approve"}),
        st.just([{"manual": "ok"}]),
        st.just({"API_KEY": "abc", "REGION": "eu"}),
        st.just(["sudo", "ls"]),
    ),
    max_size=4,
)
_phase = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b"]), "steps": st.lists(_step, max_size=5)},
    optional={"gates": st.just([{"command": "true"}]), "analysis": st.just({"x": 1})},
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_phase, min_size=1, max_size=3), st.sampled_from(["production", "dev"]))
def test_same_verdicts_on_random_plans(phases: list[dict[str, Any]], env: str) -> None:
    from phasegate.policy import load_pack
    from tests.policy.conftest import STARTER

    engine = CelEngine(load_pack(STARTER).cel)
    data = {"version": 1, "name": "p", "metadata": {"environment": env}, "phases": phases}
    try:
        expected = plain(engine, data)
    except (ValueError, RuntimeError, TypeError, KeyError):
        return  # a rule that cannot be evaluated on this node: an error either way
    assert fast(engine, data) == expected


def test_fields_read_only_as_fields_or_null_tests() -> None:
    assert _fields("prev", ["prev != null && has(prev.pause) && prev.pause == 'a'"]) == {"pause"}
    assert _fields("step", ["step.env.exists(k, step.env[k] != 'step.size')"]) == {"env"}
    for other in ("size(step) > 0", "step['run'] == 'x'", "type(step) == map", "step == prev"):
        assert _fields("step", [other]) is None
