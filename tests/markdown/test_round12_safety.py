"""Blind round 12's safety classes (issue 11), each a general rule tested on wordings written
here, never the round's documents: what runs forward, what runs on rollback, what pauses for a
person (plan_walk.py walks the imported plans)."""

from __future__ import annotations

import pytest

from tests.markdown.plan_walk import imported, manual_texts, roles_of, runs_forward

# A forward procedure, then a section whose heading is the wording under test, over a command.
_DOC = """# Upgrade the ledger service

## Upgrade

```bash
systemctl restart ledger-forward
```

## {heading}

```bash
{command}
```

## Verify

```bash
curl -fsS http://localhost:8080/ledger-health
```
"""

# Class 1: a heading no rule classifies (not a phase, a numbered step, a check, a procedure,
# nor a forward act or the act itself) over commands that undo or destroy: the operator is
# asked first (a decision), the commands never run forward.
UNKNOWN_HEADINGS = [
    "Pitfalls",
    "Things to keep in mind",
    "Heads-up",
    "Ennen kuin lähdet",  # fi: before you leave
    "Kiedy coś się zawiesi",  # pl: when something hangs
    "Sonraki çeyrek",  # tr: next quarter
    "Πριν φύγετε",  # el: before you leave
    "나중에",  # ko: later
    "Hal-hal lain",  # id: other things
]
UNDOING = [
    "kubectl -n ledger rollout undo deployment/ledger-other",
    "helm rollback ledger-other 0 --wait",
    "sudo rm -rf /var/lib/ledger-other/cache",
    'psql ledger-other -c "DROP TABLE legacy;"',
    'mysql ledger-other -e "DELETE FROM entries WHERE id > 0"',
    "terraform -chdir=ledger-other destroy -auto-approve",
    "gh run cancel 4242 --repo acme/ledger-other",
    "redis-cli -h ledger-other FLUSHALL",
    "git revert --no-edit ledger-other-sha",
    "curl -fsS -X DELETE https://api.internal/ledger-other",
    "aws cloudformation delete-stack --stack-name ledger-other",
    "nixos-rebuild switch --rollback --target-host ledger-other",
    "sqitch revert -y --to @HEAD^ db:pg://ledger-other",
]


@pytest.mark.parametrize("heading", UNKNOWN_HEADINGS)
@pytest.mark.parametrize("command", UNDOING)
def test_an_unclassified_heading_over_an_undo_asks_first(heading: str, command: str) -> None:
    data = imported(_DOC.format(heading=heading, command=command)).data
    roles = roles_of(data, "ledger-other")
    assert roles, (heading, command)
    # never the path: run only when the operator chose it
    assert not runs_forward(data, "ledger-other"), (heading, command, roles)
    assert all(when and when.startswith("vars.DECISION_") for _, when in roles), roles
    # the operator is asked, before it, with the heading's words
    asked = [t for t in manual_texts(data) if "Decide" in t and heading.lower() in t.lower()]
    assert asked, (heading, manual_texts(data))
    # the procedure around it is still the path, in its order
    assert runs_forward(data, "ledger-forward")
    assert runs_forward(data, "ledger-health")


def test_the_decision_comes_before_the_commands_it_holds() -> None:
    doc = _DOC.format(heading="Pitfalls", command="sudo rm -rf /var/lib/ledger-other/cache")
    steps = [s for p in imported(doc).data["phases"] for s in p.get("steps", [])]
    asked = next(i for i, s in enumerate(steps) if "pause" in s and "Decide" in s["name"])
    held = next(i for i, s in enumerate(steps) if "ledger-other" in s.get("run", ""))
    assert asked < held
    choose = steps[asked]["pause"]["choose"]
    assert "none" in choose["options"]  # not doing it is a choice
    assert steps[held]["when"] == f"vars.{choose['var']} == '{choose['options'][0]}'"


# What the rule leaves alone: the document says to run it there.
FORWARD = [
    # a heading naming the act itself
    ("Drop the legacy table", 'psql ledger-other -c "DROP TABLE legacy;"'),
    ("Delete the old bucket", "aws s3 rb s3://ledger-other --force && rm -rf /tmp/ledger-other"),
    ("Tear down the blue stack", "terraform -chdir=ledger-other destroy -auto-approve"),
    # a heading naming forward work, whose fence cleans up after itself
    ("Full deploy", "kubectl apply -f ledger.yaml && rm -rf /tmp/ledger-other"),
    ("Genomförande", "rm -rf /tmp/ledger-other && ./deploy.sh"),
    ("Wdrożenie", "rm -rf /tmp/ledger-other && ./deploy.sh"),
    ("Tasks", 'psql ledger-other -c "DELETE FROM runs WHERE id = 999;"'),
    # a numbered step, in several languages
    ("3. Wipe the new VM", "sudo rm -rf /var/lib/ledger-other/data"),
    ("Krok 3: wyczyść", "sudo rm -rf /var/lib/ledger-other/data"),
    ("Adım 3", "sudo rm -rf /var/lib/ledger-other/data"),
    # an option's value is a setting of a forward command, not an undo
    (
        "Ažuriranje",
        "docker service update --update-failure-action rollback --image ledger:2 ledger-other",
    ),
    ("Ažuriranje", "aws cloudformation deploy --on-failure=DELETE --stack-name ledger-other"),
]


@pytest.mark.parametrize(("heading", "command"), FORWARD)
def test_a_heading_that_says_to_do_it_keeps_it_on_the_path(heading: str, command: str) -> None:
    data = imported(_DOC.format(heading=heading, command=command)).data
    assert runs_forward(data, "ledger-other"), (heading, command, roles_of(data, "ledger-other"))
    assert not [t for t in manual_texts(data) if "Decide" in t], manual_texts(data)


def test_a_rollback_runbook_runs_its_undo_forward() -> None:
    doc = """# Rollback runbook: ledger 4.2 → 4.1

## Notes before you start

```bash
kubectl -n ledger rollout undo deployment/ledger-other
```
"""
    data = imported(doc).data
    assert runs_forward(data, "rollout undo deployment/ledger-other"), roles_of(data, "ledger")
