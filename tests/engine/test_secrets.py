"""A secret never appears in any artifact of a run: terminal, logs, journal, reports."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.conftest import CLI, write_plan

ENV_SECRET = "env-secret-Zq81x7"
PLAN_SECRET = "plan-secret-Kd02m5"
VAR_SECRET = "var-secret-Pp77w3"


def test_secrets_are_masked_in_every_artifact(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: secretive
        vars:
          API_TOKEN: {{env: DEPLOY_TOKEN, secret: true}}
          DB_PASSWORD: {{value: {PLAN_SECRET}, secret: true}}
          SIGNING_KEY: {{value: placeholder, secret: true}}
          DSN: "postgres://app:${{DB_PASSWORD}}@db/app"
        phases:
          - id: p
            steps:
              - name: uses secrets
                run: |
                  echo "token=$API_TOKEN password=$DB_PASSWORD key=$SIGNING_KEY dsn=$DSN"
                  echo "stderr $API_TOKEN" >&2
                  echo "leak=$SIGNING_KEY" >> "$PHASEGATE_OUTPUT"
                undo: echo "undo with $API_TOKEN"
              - name: argv
                run: [sh, -c, 'echo "$SIGNING_KEY" "$DB_PASSWORD"']
            gates:
              - command: 'echo "checking $API_TOKEN"; test "$DB_PASSWORD" = wrong'
                expect: {{stdout_contains: "${{SIGNING_KEY}}"}}
    """,
    )
    run = cli(
        "run", str(plan), "--var", f"SIGNING_KEY={VAR_SECRET}", env={"DEPLOY_TOKEN": ENV_SECRET}
    )
    assert run.returncode == 1, run.stderr
    assert "***" in run.stderr
    outputs = [run.stdout, run.stderr]
    for args in (
        ["status", "last"],
        ["status", "last", "--json"],
        ["logs", "last"],
        ["history", "--json"],
        ["report", "last", "--format", "json"],
        ["check", "--json"],
    ):
        result = cli(*args)
        assert result.returncode == 0, (args, result.stderr)
        outputs.append(result.stdout + result.stderr)
    for fmt in ("md", "html", "json"):
        target = cli.cwd / f"report.{fmt}"
        assert cli("report", "last", "--format", fmt, "-o", str(target)).returncode == 0
    files = [p for p in [*cli.state_dir.rglob("*"), *cli.cwd.glob("report.*")] if p.is_file()]
    assert any(p.name.endswith(".log") for p in files)
    assert any(p.name == "phasegate.db" for p in files)
    for secret in (ENV_SECRET, PLAN_SECRET, VAR_SECRET):
        for text in outputs:
            assert secret not in text
        for path in files:
            assert secret.encode() not in Path(path).read_bytes(), (secret, path)
    # the masked values are still usable by the run: the step saw the real values
    log = cli("logs", "last", "uses-secrets").stdout
    assert "token=*** password=*** key=*** dsn=***" in log


def test_resume_asks_again_for_secrets_it_never_stored(cli: CLI) -> None:
    digest = hashlib.sha256(PLAN_SECRET.encode()).hexdigest()
    plan = write_plan(
        cli.cwd,
        f"""
        version: 1
        name: secret-resume
        on_failure: pause
        vars:
          PASSWORD: {{value: {PLAN_SECRET}, secret: true}}
        phases:
          - id: p
            steps:
              - id: use
                run: 'printf %s "$PASSWORD" | sha256sum | grep -q {digest} && test -f go'
    """,
    )
    assert cli("run", str(plan)).returncode == 4
    (cli.cwd / "go").write_text("")
    plan.write_text(plan.read_text() + "# edited after the run started\n")
    refused = cli("resume", "last")
    assert refused.returncode == 2
    assert "PASSWORD" in refused.stderr and PLAN_SECRET not in refused.stderr
    resumed = cli("resume", "last", "--var", f"PASSWORD={PLAN_SECRET}")
    assert resumed.returncode == 0, resumed.stderr
