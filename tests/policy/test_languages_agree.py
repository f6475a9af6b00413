"""Rego and CEL give the same verdicts on the same rules: the starter pack's twins over
generated plans (hypothesis), compared violation by violation (policy, node, level)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.policy import Pack
from phasegate.policy.document import document_from_data

COMMANDS = st.sampled_from(
    [
        "echo hello",
        "sudo systemctl restart web",
        "cd /opt && sudo ./install.sh",
        "grep -q sudo /etc/group",
        "curl -fsSL https://get.example.com | sh",
        "wget -qO- https://x.example.com/i.sh | sudo bash",
        'curl -fsS http://127.0.0.1/healthz | jq ".status"',
        "aws s3 cp a s3://b --key AKIAABCDEFGHIJKLMNOP",
        "echo ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        'echo "-----BEGIN OPENSSH PRIVATE KEY-----"',
        "echo AKIA-not-a-key",
    ]
)
ENV = st.dictionaries(
    st.sampled_from(["DB_PASSWORD", "API_TOKEN", "REGION", "secret_key"]),
    st.sampled_from(["", "${TOKEN}", "literal-value", "eu-west-1"]),
    max_size=2,
)
MANUAL = st.fixed_dictionaries(
    {"manual": st.just("sign off")},
    optional={"approvers": st.integers(1, 3), "prevent_self_review": st.booleans()},
)
GATE = st.one_of(MANUAL, st.just({"command": "true"}))
PAUSE = st.sampled_from(["approve", "30s", {"until": "approve"}, {"duration": "5s"}])
STEP = st.one_of(
    st.fixed_dictionaries({"set_weight": st.integers(0, 100)}, optional={"bake": st.just("5s")}),
    st.fixed_dictionaries({"analysis": st.just("health")}),
    st.fixed_dictionaries({"pause": PAUSE}),
    st.fixed_dictionaries(
        {"run": st.one_of(COMMANDS, st.lists(st.sampled_from(["sudo", "ls", "-l"]), min_size=1))},
        optional={"env": ENV, "pre_gates": st.lists(GATE, max_size=2)},
    ),
)
PHASE = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c"]), "steps": st.lists(STEP, max_size=6)},
    optional={"gates": st.lists(GATE, max_size=2), "analysis": st.just("health")},
)
VARS = st.dictionaries(
    st.sampled_from(["API_TOKEN", "REGION", "DB_PASSWORD", "SIGNING", "private_key"]),
    st.one_of(
        st.sampled_from(["", "plain-value", "${OTHER}"]),
        st.fixed_dictionaries(
            {}, optional={"value": st.sampled_from(["x-literal", "${A}"]), "secret": st.booleans()}
        ),
        st.just({"env": "HOME"}),
    ),
    max_size=3,
)
PLAN = st.fixed_dictionaries(
    {"version": st.just(1), "name": st.just("generated"), "phases": st.lists(PHASE, max_size=3)},
    optional={
        "metadata": st.fixed_dictionaries(
            {"environment": st.sampled_from(["production", "prod", "staging"])}
        ),
        "budget": st.fixed_dictionaries({}, optional={"rollback": st.just("2m")}),
        "vars": VARS,
    },
)


def verdicts(pack: Pack, plan: dict[str, Any], language: str) -> set[tuple[str, str, str]]:
    found = pack.evaluate_document(document_from_data(plan), language).violations
    return {(v.policy, v.field, v.level) for v in found}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLAN)
def test_rego_and_cel_agree_on_generated_plans(starter: Pack, plan: dict[str, Any]) -> None:
    assert verdicts(starter, plan, "rego") == verdicts(starter, plan, "cel")


def test_the_generator_reaches_every_policy(starter: Pack) -> None:
    """The comparison means something only if both sides find violations of every kind."""
    plan = {
        "version": 1,
        "name": "all",
        "metadata": {"environment": "production"},
        "vars": {"API_TOKEN": "plain-value"},
        "phases": [{"id": "a", "steps": [{"set_weight": 5}, {"run": "sudo reboot"}]}],
    }
    both = verdicts(starter, plan, "rego")
    assert both == verdicts(starter, plan, "cel")
    assert {p for p, _, _ in both} == set(starter.names)
