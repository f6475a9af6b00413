"""On real sshd: a remote step's outputs reach later steps and gates on the same host (masked
when they carry a secret), host gates' commands run on the host (not on the controller),
and a step's `retries:` retry per (host, step) with each attempt journalled and the undo run
once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI
from tests.fleet.fleetplan import journal, ledger
from tests.fleet.sshd import Lab, ssh_lab

HOSTS = ["h00", "h01", "h02", "h03"]
SECRET = "s3cr3t-token-value"
INSTALL = (
    'n=$(cat "$HOST_DIR/tries" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$HOST_DIR/tries"; '
    'echo "install $PHASEGATE_HOST $n" >> "$LEDGER"; '
    'if [ "$HOST_FLAKY" = true ] && [ "$n" = 1 ]; then echo "flaky first try" >&2; exit 3; fi; '
    'echo v2 > "$HOST_DIR/version"; '
    'echo "version=v2-$PHASEGATE_HOST" >> "$PHASEGATE_OUTPUT"; '
    'echo "token=$TOKEN" >> "$PHASEGATE_OUTPUT"'
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with ssh_lab(tmp_path_factory.mktemp("flow") / "lab", servers=2) as lab:
        yield lab


def write(cli: CLI, lab: Lab, run_dir: Path) -> None:
    root = cli.cwd
    hosts = []
    for i, name in enumerate(HOSTS):
        (root / "hosts" / name).mkdir(parents=True)
        hosts.append(
            {
                "name": name,
                "groups": ["web"],
                "labels": {
                    "ansible_host": "127.0.0.1",
                    "ansible_port": lab.servers[i % 2].port,
                    "dir": str(root / "hosts" / name),
                    "flaky": name == "h01",
                },
            }
        )
    plan: dict[str, Any] = {
        "version": 1,
        "name": "flow",
        "vars": {"LEDGER": str(root / "ledger"), "TOKEN": {"env": "TOKEN", "secret": True}},
        "targets": {
            "hosts": hosts,
            "ssh": lab.ssh_settings(connect_timeout=5, max_connections=4, run_dir=str(run_dir)),
        },
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups",
                "batch": {"size": [2]},
                "steps": [
                    {
                        "id": "install",
                        "run": INSTALL,
                        "retries": 1,
                        "backoff": "0.1s",
                        "undo": 'echo "undo $PHASEGATE_HOST" >> "$LEDGER"',
                    },
                    {
                        "id": "use",
                        "when": "steps.install.outputs.version == 'v2-' + host.name",
                        "run": 'echo "use ${steps.install.outputs.version} '
                        '${steps.install.outputs.token} $PHASEGATE_HOST" >> "$LEDGER"',
                    },
                ],
                "host_gates": [
                    {
                        # Runs on the host: the login's home, none of the controller's
                        # environment, the host's own outputs.
                        "id": "on-host",
                        "command": 'test "$PWD" = "$HOME" && test -z "$CONTROLLER_ONLY" && '
                        'test "${steps.install.outputs.version}" = "v2-$PHASEGATE_HOST" && '
                        'echo "gate $PHASEGATE_HOST" >> "$LEDGER"',
                    },
                    {"id": "cel", "expr": "steps.use.status == 'succeeded'"},
                ],
            },
            {"id": "after", "needs": ["deploy"], "steps": [{"id": "fail", "run": "exit 1"}]},
        ],
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def test_outputs_host_gates_on_the_host_and_retries(cli: CLI, lab: Lab, tmp_path: Path) -> None:
    run_dir = tmp_path / "remote-runs"
    write(cli, lab, run_dir)
    result = cli("run", "plan.yaml", env={"TOKEN": SECRET, "CONTROLLER_ONLY": "1"})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr  # rolled back
    run = str(cli.status()["run"]["id"])
    events = journal(cli.state_dir, run)
    ends = [e for e in events if e["type"] == "item.finished"]

    # Retries: h01's first attempt failed and was journalled `retrying`, its second succeeded;
    # every other host ran once. Each attempt is its own item attempt.
    installs = [
        (e["host"], e["attempt"], e["status"])
        for e in ends
        if e["key"].startswith("deploy/install@")
    ]
    assert sorted(installs) == [
        ("h00", 1, "succeeded"),
        ("h01", 1, "retrying"),
        ("h01", 2, "succeeded"),
        ("h02", 1, "succeeded"),
        ("h03", 1, "succeeded"),
    ]
    lines = ledger(cli.cwd)
    assert sorted(line for line in lines if line.startswith("install")) == [
        "install h00 1",
        "install h01 1",
        "install h01 2",
        "install h02 1",
        "install h03 1",
    ]

    # Outputs: journalled per host, the secret masked; the later step got the host's values.
    for host in HOSTS:
        install = next(
            e for e in ends if e["key"] == f"deploy/install@{host}" and e["status"] == "succeeded"
        )
        assert install["outputs"]["version"] == f"v2-{host}"
        assert SECRET not in install["outputs"]["token"]
        assert install["outputs"]["token"].strip("*") == ""
    uses = sorted(line for line in lines if line.startswith("use"))
    assert [line.split()[1] for line in uses] == [f"v2-{h}" for h in HOSTS]
    assert [line.split()[3] for line in uses] == HOSTS
    assert all(SECRET not in line for line in lines)
    for e in ends:
        assert SECRET not in str(e)

    # Host gates: both passed on every host; the command one ran on the host, under the
    # supervisor, with its status file beside the steps' in the run directory on the host.
    gates = sorted((e["key"], e["status"]) for e in ends if e.get("kind") == "gate")
    assert gates == sorted(
        [(f"deploy/gate:on-host@{h}", "passed") for h in HOSTS]
        + [(f"deploy/gate:cel@{h}", "passed") for h in HOSTS]
    )
    assert sorted(line for line in lines if line.startswith("gate")) == [f"gate {h}" for h in HOSTS]
    records = {p.name for p in (run_dir / run).iterdir()}
    for host in HOSTS:
        # the supervisor's record of the gate's command: exit 0
        assert f"deploy_gate_on-host_{host}.1" in records, sorted(records)
        assert (run_dir / run / f"deploy_gate_on-host_{host}.1").read_text() == "0 end\n"

    # Rollback: the later phase failed; each host's install is undone exactly once, newest
    # first, although h01's install ran twice.
    undone = [line.split()[1] for line in lines if line.startswith("undo")]
    assert sorted(undone) == HOSTS
    completed = [
        e["host"]
        for e in ends
        if e["key"].startswith("deploy/install@") and e["status"] == "succeeded"
    ]
    assert undone == list(reversed(completed))

    # The per-host view in `status`: batch, outcome, each step's and gate's status, exactly.
    shown = cli("status", run)
    assert shown.returncode == 0, shown.stderr
    rows = shown.stdout.split("    hosts (4):\n", 1)[1].splitlines()[:4]
    steps = "install=succeeded  use=succeeded"
    assert rows == [
        f"      {h}  batch {b}   succeeded    {steps.replace('  ', ' ')}"
        "  gates: on-host=passed cel=passed"
        for h, b in (("h00", 1), ("h01", 1), ("h02", 2), ("h03", 2))
    ]
