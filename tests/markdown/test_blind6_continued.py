"""The rules of blind round 6 (continued), each on wording of its own (not the round's
documents): a class of wording or structure is what a rule reads, so a second way to write the
same thing must import the same way. Each document is imported with the real importer and
judged with labelled_check's kinds (what runs forward, what waits for a person, triggers and
their actions, bindings, and the "executable as written" claim)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.markdown import labelled_check as lc

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "replace-said",
        """# Bucket cleanup

Substitute `acme-prod` and `EU_BUCKET` with your own values before you start.

```bash
gsutil ls gs://EU_BUCKET/acme-prod-logs
gsutil rm -r gs://EU_BUCKET/acme-prod-tmp
```

```bash
kubectl delete pod web-7d9f-xxxxx -n acme
```
""",
        {
            "executable": False,
            "expectations": [
                {"kind": "binding", "placeholder": "acme-prod"},
                {"kind": "binding", "placeholder": "EU_BUCKET"},
                {"kind": "binding", "placeholder": "xxxxx"},
            ],
        },
    ),
    (
        "halt-not-rollback",
        """# Desktop app staged release

```bash
./release.sh --channel stable --percent 5
```

## Stop conditions

Pause the release (never roll back automatically, the installers are already out) if:

- error rate > 2%
- crash rate above 1%
""",
        {
            "expectations": [
                {"kind": "trigger", "phrase": "error rate", "action": "pause"},
                {"kind": "trigger", "phrase": "crash rate", "action": "pause"},
            ],
        },
    ),
    (
        "trigger-line-and-kill-switch",
        """# Payments API release

```bash
helm upgrade payments ./chart --set image.tag=4.2.0
```

## Backout

Trigger: error rate above 5% for 10 minutes.

```bash
helm rollback payments
```

## Kill switch

Whenever p99 latency exceeds 900 ms:

```bash
./flags.sh disable new-checkout
```
""",
        {
            "expectations": [
                {"kind": "trigger", "phrase": "error rate", "action": "rollback"},
                {"kind": "trigger", "phrase": "latency", "action": "rollback"},
                {"kind": "never_forward", "cmd": "helm rollback payments"},
                {"kind": "never_forward", "cmd": "flags.sh disable new-checkout"},
            ],
        },
    ),
    (
        "criteres-d-annulation",
        """# Mise à jour du service de recherche

```bash
./deploy.sh recherche 5.1.0
```

## Critères d'annulation

- la latence p99 dépasse 800 ms
- le taux d'erreur est supérieur à 3 %
""",
        {
            "expectations": [
                {"kind": "trigger", "phrase": "latence", "action": "rollback"},
                {"kind": "trigger", "phrase": "taux d'erreur", "action": "rollback"},
            ],
        },
    ),
    (
        "person-in-the-flow",
        """# Schema change

## Apply

```bash
./migrate.sh up 42
```

Wait until the replication lag graph is flat again.

Open a pull request that bumps `schema_version` in `config/app.yml`.

Post in #db-changes that migration 42 is live.

## Second region

The same steps as for the first region.
""",
        {
            "expectations": [
                {"kind": "forward", "cmd": "./migrate.sh up 42"},
                {"kind": "manual", "phrase": "replication lag"},
                {"kind": "manual", "phrase": "pull request"},
                {"kind": "manual", "phrase": "#db-changes"},
                {"kind": "manual", "phrase": "same steps"},
            ],
        },
    ),
    (
        "prose-expectation-exact",
        """# Web release

```bash
./deploy.sh web 3.0.0
```

```bash
curl -f https://web.example.com/healthz
```

Expected: HTTP 200
""",
        {
            "executable": True,
            "expectations": [{"kind": "forward", "cmd": "curl -f https://web.example.com/healthz"}],
        },
    ),
    (
        "prose-expectation-loose",
        """# Index rebuild

```bash
./indexctl rebuild --all
```

```bash
./indexctl status --shards
```

The output should be roughly forty lines, none of them red.
""",
        {"executable": False, "expectations": []},
    ),
    (
        "commands-for-one-case",
        """# Database switchover

These commands assume db-1 is the primary. If db-2 is the primary, change the host names
in every command.

```bash
ssh db-1 sudo -u postgres pg_ctl promote -D /var/lib/postgresql/16/main
```
""",
        {
            "executable": False,
            "expectations": [{"kind": "manual", "phrase": "db-1 is the primary"}],
        },
    ),
    (
        "stop-and-ask",
        """# Terraform apply

```bash
terraform plan -out plan.bin
```

If the plan destroys anything, stop and check with the platform team.

```bash
terraform apply plan.bin
```
""",
        {
            "expectations": [
                {"kind": "manual", "phrase": "platform team"},
                {"kind": "forward", "cmd": "terraform apply plan.bin"},
                {"kind": "order", "before": "terraform plan -out", "after": "terraform apply"},
            ],
        },
    ),
    (
        "persons-secret",
        """# HSM-backed signing

1. Build the artefact: `make dist VERSION=2.0.0`
2. Sign it with your passphrase: `gpg --detach-sign --passphrase <PASSPHRASE> dist/app.tgz`
3. Upload it: `aws s3 cp dist/app.tgz s3://releases/`
""",
        {
            "expectations": [
                {"kind": "forward", "cmd": "make dist VERSION=2.0.0"},
                {"kind": "manual", "phrase": "passphrase"},
                {"kind": "never_forward", "cmd": "gpg --detach-sign"},
                {"kind": "forward", "cmd": "aws s3 cp dist/app.tgz"},
            ],
        },
    ),
]


@pytest.mark.parametrize(("name", "text", "spec"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_reads_its_class(
    tmp_path: Path, name: str, text: str, spec: dict[str, Any]
) -> None:
    doc = tmp_path / f"{name}.md"
    doc.write_text(text, encoding="utf-8")
    outcomes = lc.evaluate(lc.import_doc(doc), spec)
    missed = [o.render() for o in outcomes if not o.met]
    assert not missed, "\n".join(missed)
