"""Safety classes of issue 11 §1/§2/§3/§12, each from a small synthetic document of the class
(never a corpus document): what must never run on the forward path, never hang a step or gate,
or never be claimed executable."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from phasegate.markdown import import_markdown, shellparse
from tests.conftest import CLI
from tests.markdown.cases_harness import import_case


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


def _forward(data: dict[str, Any]) -> str:
    """Every unconditional forward step and command check, comment lines (not run) removed."""
    found = []
    for phase in data["phases"]:
        items = list(phase.get("steps", [])) + list(phase.get("gates", []))
        items += [g for s in phase.get("steps", []) for g in s.get("pre_gates", [])]
        for item in items:
            text = item.get("run") or item.get("command")
            if isinstance(text, str) and item.get("when") is None:
                found += [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(found)


# -- §2 servers that never end by themselves -------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "npm run dev",
        "npm start",
        "yarn dev",
        "pnpm run start:prod",
        "npm run prisma:studio",
        "npx prisma studio",
        "rails s",
        "bundle exec rails server -p 3000",
        "flask run --port 5000",
        "uvicorn app.main:app --reload",
        "gunicorn -w 4 app:app",
        "python -m http.server 8000",
        "python manage.py runserver",
        "php artisan serve",
        "docker compose up",
        "docker-compose up --build",
        "sudo docker compose up web",
        "celery -A proj worker -l info",
    ],
)
def test_foreground_servers_never_end(command: str) -> None:
    assert shellparse.never_ending_text(command) is not None


@pytest.mark.parametrize(
    "command",
    [
        "npm run build",
        "npm ci",
        "yarn install",
        "yarn build",
        "npm run deploy:dev",
        "npx prisma migrate deploy",
        "python manage.py migrate",
        "docker compose up -d",
        "docker compose up -d --build web",
        "docker-compose up --detach",
        "npm start &",
        "rails db:migrate",
    ],
)
def test_commands_that_end_are_not_servers(command: str) -> None:
    assert shellparse.never_ending_text(command) is None


@pytest.mark.parametrize(
    ("heading", "server"),
    [
        ("## Verify", "npm run prisma:studio"),
        ("## Start the app", "docker compose up"),
        ("## Arrancar la aplicación", "uvicorn app:app --port 8000"),
    ],
)
def test_a_server_in_a_fence_is_no_step_or_gate(heading: str, server: str) -> None:
    data = _plan(
        f"""
        # Release
        {heading}
        ```bash
        npx prisma migrate deploy
        {server}
        ```
        """
    )
    forward = _forward(data)
    assert "npx prisma migrate deploy" in forward
    assert server not in forward
    # a person starts it (a manual step or check), never a monitor killed with the phase
    manual = [s["name"] for p in data["phases"] for s in p.get("steps", []) if "pause" in s]
    manual += [g["manual"] for p in data["phases"] for g in p.get("gates", []) if "manual" in g]
    assert any(server in text for text in manual), manual
    assert not any(p.get("monitors") for p in data["phases"])


# -- §1 development-only commands --------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "npx prisma migrate dev --name init",
        "yarn prisma migrate reset --force",
        "php artisan migrate:fresh --seed",
        "bundle exec rails db:reset",
        "python manage.py flush --noinput",
    ],
)
def test_a_tool_documented_dev_only_command_never_runs_forward(command: str) -> None:
    data = _plan(
        f"""
        # Release
        ## Migrate
        ```bash
        npm ci
        {command}
        ```
        """
    )
    forward = _forward(data)
    assert "npm ci" in forward and command not in forward


@pytest.mark.parametrize(
    "comment",
    [
        "# Reset the cache (DEV ONLY)",
        "# Seed demo data - not for production",
        "# Reiniciar datos (SOLO DESARROLLO)",
        "# Testdaten laden (nur Entwicklung)",
        "# Carregar dados (não use em produção)",
        "# 仅用于开发",
    ],
)
def test_a_command_under_a_dev_only_comment_never_runs_forward(comment: str) -> None:
    data = _plan(
        f"""
        # Release
        ## Deploy
        ```bash
        ./deploy.sh
        {comment}
        ./seed.sh --demo
        ```
        """
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "./seed.sh" not in forward


@pytest.mark.parametrize(
    "warning",
    [
        "- **NOT FOR PRODUCTION**",
        "Development only: never run this in production.",
        "- **NO USAR EN PRODUCCIÓN**",
        "Nicht in der Produktion verwenden, nur für Entwicklung.",
    ],
)
def test_a_section_marked_dev_only_is_never_run(warning: str) -> None:
    data = _plan(
        f"""
        # Migrations
        ## Local
        ```bash
        ./scripts/make-migration.sh
        ```
        {warning}

        ## Production
        ```bash
        ./scripts/apply-migrations.sh
        ```
        """
    )
    forward = _forward(data)
    assert "./scripts/apply-migrations.sh" in forward
    assert "make-migration" not in forward


# -- §3/§12 placeholders: never claimed executable ------------------------------------------


def _executable(doc: str) -> tuple[bool, dict[str, Any]]:
    result = import_markdown(textwrap.dedent(doc), "DOC.md")
    return result.report["executable"], result.data


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ('psql "DATABASE_URL" -c "select 1"', "DATABASE_URL"),
        ("pg_restore --dbname=DATABASE_URL backup.dump", "DATABASE_URL"),
        ("curl -H 'Authorization: Bearer API_TOKEN' https://x", None),
        ("deploy --api-key='STRIPE_SECRET_KEY'", "STRIPE_SECRET_KEY"),
        ("TOKEN=_YOUR-GITHUB-TOKEN_ ./release.sh", "GITHUB_TOKEN"),
        ("git checkout <commit_estable>", None),  # a manual step: `<x>` does not parse
        ("export KEY=$YOUR_API_KEY && ./deploy.sh", None),
    ],
)
def test_a_placeholder_is_bound_never_run_literally(line: str, name: str | None) -> None:
    executable, data = _executable(
        f"""
        # Release
        ## Deploy
        ```bash
        {line}
        ```
        """
    )
    assert executable is False
    forward = _forward(data)
    assert not any(w in forward for w in ("_YOUR-", "<commit", '"DATABASE_URL"', "=DATABASE"))
    if name is not None:
        assert data["vars"][name]["needs_binding"], data["vars"]


def test_a_variable_reference_is_no_placeholder() -> None:
    executable, data = _executable(
        """
        # Release
        ## Deploy
        ```bash
        export DATABASE_URL=postgres://db/app
        psql "$DATABASE_URL" -c "select 1"
        ```
        """
    )
    assert "DATABASE_URL" not in data.get("vars", {})
    assert executable is True


def test_an_untagged_fence_of_an_unknown_tool_with_a_placeholder_token_is_shell() -> None:
    executable, data = _executable(
        """
        # Chart
        ## Release chart
        ```
        TOKEN=_YOUR-GITHUB-TOKEN_
        cr package chart/ -p packages/
        cr upload -o me -p packages/ -t $TOKEN
        ```
        """
    )
    assert executable is False
    assert "cr upload -o me" in _forward(data)


# -- §1 descriptions of what automation runs; measuring the process --------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "CI executes:",
        "**The pipeline runs:**",
        "GitHub Actions runs these checks:",
        "En CI se ejecuta:",
        "Die CI führt folgende Befehle aus:",
        "O CI executa:",
        "CI 执行：",
    ],
)
def test_what_ci_runs_is_described_not_run(lead: str) -> None:
    data = _plan(
        f"""
        # Release
        ## Smoke checks
        {lead}

        1. `python scripts/contract.py --emit-evidence out.json`
        2. `pytest tests/integration -q`

        ```bash
        make ci-smoke
        ```

        Then run the release:

        ```bash
        ./release.sh
        ```
        """
    )
    forward = _forward(data)
    assert "./release.sh" in forward  # the next lead-in ends the description
    assert "contract.py" not in forward and "pytest" not in forward and "make ci" not in forward


@pytest.mark.parametrize(
    "lead", ["Trigger the pipeline and wait:", "Once the pipeline runs, check:", "Run:"]
)
def test_a_step_that_mentions_a_pipeline_still_runs(lead: str) -> None:
    data = _plan(
        f"""
        # Release
        ## Deploy
        {lead}

        ```bash
        gh workflow run deploy.yml
        ```
        """
    )
    assert "gh workflow run deploy.yml" in _forward(data)


@pytest.mark.parametrize(
    "heading", ["## Rollback Metrics", "## Runbook Maintenance", "### How to Check Metrics"]
)
def test_metrics_over_time_are_reference(heading: str) -> None:
    data = _plan(
        f"""
        # Deploy runbook
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        {heading}
        ```bash
        gh run list --workflow=deploy.yml --limit 50
        ```
        """
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "gh run list" not in forward


def test_a_lead_in_of_two_lines_ends_an_optional_part() -> None:
    data = _plan(
        """
        # Migrate
        ## Migration
        ```bash
        ./migrate.sh --all
        ```

        Optional per-namespace commands:

        ```bash
        ./migrate.sh --only users
        ```

        Contract check (profile):
        Contract check (runtime):

        ```bash
        ./contract-check.sh
        ```
        """
    )
    forward = _forward(data)
    assert "./contract-check.sh" in forward and "--only users" not in forward


# -- §1 a script file's contents is no inline step ---------------------------------------------


@pytest.mark.parametrize(
    ("lead", "body"),
    [
        ("### Ramp script", "#!/bin/bash\nFROM=$1\nTO=$2\nkubectl scale deploy/web --replicas=$TO"),
        ("### Ramp", 'for host in "$@"; do\n  ssh "$host" systemctl restart web\ndone'),
        ("Create a file `ramp.sh` with:", "kubectl scale deploy/web --replicas=3"),
        ("Save it as `scripts/ramp.sh`:", "kubectl scale deploy/web --replicas=3"),
        ("Crea el archivo `rampa.sh`:", "kubectl scale deploy/web --replicas=3"),
        ("Speichere Folgendes als Datei `ramp.sh`:", "kubectl scale deploy/web --replicas=3"),
        ("`ramp.sh`:", "kubectl scale deploy/web --replicas=3"),
    ],
)
def test_a_script_listing_is_never_run_inline(lead: str, body: str) -> None:
    fence = textwrap.indent(body, "")
    doc = f"# Release\n## Deploy\n```bash\n./deploy.sh\n```\n\n{lead}\n\n```bash\n{fence}\n```\n"
    data = import_markdown(doc, "DOC.md").data
    forward = _forward(data)
    assert "./deploy.sh" in forward and "kubectl scale" not in forward and "ssh" not in forward


def test_a_function_or_set_gives_its_own_positional_parameters() -> None:
    data = _plan(
        """
        # Release
        ## Deploy
        ```bash
        set -- web api
        for svc in "$@"; do kubectl rollout restart deploy/$svc; done
        ```
        """
    )
    assert "kubectl rollout restart" in _forward(data)


def test_a_shebang_alone_keeps_a_phase_procedure() -> None:
    data = _plan(
        """
        # Release
        ## Phase 1: Deploy
        ```bash
        #!/bin/bash
        set -e
        ./scripts/preflight.sh
        kubectl apply -f app.yaml
        ```
        """
    )
    assert "kubectl apply -f app.yaml" in _forward(data)


def test_awk_fields_are_no_positional_parameters() -> None:
    data = _plan(
        """
        # Release
        ## Deploy
        ```bash
        ps aux | awk '/web/ {sum += $6} END {print sum}'
        ```
        """
    )
    assert "awk" in _forward(data)


@pytest.mark.parametrize(
    "prose",
    [
        "You can retrieve it from the control-plane node:",
        "Puedes consultarlo en el nodo principal:",
    ],
)
def test_a_command_prose_in_a_fence_offers_is_an_aside(prose: str) -> None:
    data = _plan(
        f"""
        # Upgrade
        ## Upgrade workers
        ```bash
        ./join-worker.sh

            {prose}
            sudo cat /var/lib/token
        ```
        """
    )
    forward = _forward(data)
    assert "./join-worker.sh" in forward and "sudo cat /var/lib/token" not in forward


@pytest.mark.parametrize("title", ["### Manual Add-on Upgrade", "### Manually", "### 手动升级"])
def test_a_manual_way_after_an_automated_one_runs_only_when_chosen(title: str) -> None:
    data = _plan(
        f"""
        # Upgrade
        ## Add-ons
        ### Upgrade add-ons with Terraform
        ```bash
        terraform apply -auto-approve
        ```
        {title}
        ```bash
        aws eks update-addon --addon-name vpc-cni --addon-version v1.2.3
        ```
        """
    )
    forward = _forward(data)
    assert "terraform apply" in forward and "update-addon" not in forward


def test_a_manual_rollback_is_not_an_option() -> None:
    data = _plan(
        """
        # Deploy
        ## Deploy
        ```bash
        ./deploy.sh
        ```
        ### Manual Rollback
        ```bash
        ./rollback.sh
        ```
        """
    )
    assert "./rollback.sh" in "\\n".join(
        a["run"] for p in data["phases"] for a in p.get("rollback", [])
    )


# -- §1 remedies chosen per situation (alert / incident runbooks) -----------------------------

ALERT_RUNBOOK = """\
# Pool runbook

## Blue to Green Failover

**What happened:** the blue pool failed and traffic moved to green.

**What to do:**

```bash
touch "$RUN_DIR/restarted-blue"
```

## High Error Rate Alert

**What happened:** more than 2% of requests fail.

**What to do:**

```bash
touch "$RUN_DIR/restarted-green"
```
"""


def test_an_alert_runbook_remedy_runs_only_for_its_chosen_situation() -> None:
    executable, data = _executable(ALERT_RUNBOOK)
    runs = [(s["run"], s.get("when")) for p in data["phases"] for s in p["steps"] if "run" in s]
    assert runs and all(when and "DECISION_" in when for _, when in runs), runs
    assert runs[0][1] != runs[1][1]  # one situation, one remedy
    # nothing runs unless the operator names the situation: not "executable as written"
    assert executable is False


@pytest.mark.parametrize(
    ("title", "leads"),
    [
        ("## Disk full alert", ""),
        ("## Alert: replica lag", ""),
        ("## Replica lag", "**Symptoms:** lag above 30 s\n\n**Resolution:**\n"),
        ("## Réplica atrasada", "**Síntomas:** retraso\n\n**Qué hacer:**\n"),
    ],
)
def test_a_single_situation_section_is_an_option_not_a_forward_step(title: str, leads: str) -> None:
    data = _plan(
        f"# Ops\n## Deploy\n```bash\n./deploy.sh\n```\n{title}\n{leads}\n"
        "```bash\n./restart-replica.sh\n```\n"
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "./restart-replica.sh" not in forward


@pytest.mark.parametrize(
    "title", ["## Configure alerts", "## Post-Incident", "## Impact", "## Phase 2: Alert wiring"]
)
def test_a_section_about_alerts_is_no_situation(title: str) -> None:
    data = _plan(f"# Ops\n{title}\n**Impact:** none\n\n```bash\n./wire-alerts.sh\n```\n")
    assert "./wire-alerts.sh" in _forward(data)


def test_a_fence_or_comment_makes_the_commands_around_it_one_decision() -> None:
    data = _plan(
        """
        # Ops
        ## Restart if needed
        ```bash
        docker restart app_blue
        # or
        docker restart app_green
        # OR
        docker restart app_red
        ```
        """
    )
    runs = {s["run"]: s.get("when") for p in data["phases"] for s in p["steps"] if "run" in s}
    assert set(runs) == {
        "docker restart app_blue",
        "docker restart app_green",
        "docker restart app_red",
    }
    assert all(runs.values()) and len(set(runs.values())) == 3, runs
    [decision] = [s for p in data["phases"] for s in p["steps"] if "pause" in s]
    assert decision["pause"]["choose"]["options"] == [
        "docker-restart-app-blue",
        "docker-restart-app-green",
        "docker-restart-app-red",
    ]


def test_an_alert_runbook_run_for_real_asks_and_runs_only_the_chosen_remedy(cli: CLI) -> None:
    case = import_case(cli, "alerts.md", text=ALERT_RUNBOOK)
    assert case.returncode == 0, case.stderr
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr  # waits for the operator to name the situation
    assert ran.markers == set()
    [waiting] = ran.awaiting()
    [decision] = case.report["decisions"]
    choice = next(c for c in decision["choices"] if "error-rate" in c)
    approved = cli("approve", ran.run_id, "--choose", choice, input="")
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", ran.run_id, "--no-output", input="")
    assert resumed.returncode == 0, resumed.stderr
    run_dir = Path(json.loads(cli("status", "last", "--json").stdout)["vars"]["RUN_DIR"])
    assert (run_dir / "restarted-green").exists()
    assert not (run_dir / "restarted-blue").exists()
    assert waiting["name"].startswith("Decide:")


# -- §1, §12 MDX pages hold their steps elsewhere ----------------------------------------------


@pytest.mark.parametrize(
    "mdx",
    [
        'import StepOne from "versionContent/_partials/_step1.mdx";\n\n<StepOne />',
        "import Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';",
        '<Tabs>\n<TabItem value="apt">\n\nUse apt.\n\n</TabItem>\n</Tabs>',
        "export const meta = {title: 'Migrate'}\n\n<Callout>Read first</Callout>",
    ],
)
def test_an_mdx_page_is_never_executable_as_written(mdx: str) -> None:
    result = import_markdown(f"{mdx}\n\n# Migrate\n## Run\n```bash\n./migrate.sh\n```\n", "DOC.md")
    assert result.report["executable"] is False
    assert any("MDX" in reason for reason in result.report["not_executable"])
    assert {r["rule"] for r in result.report["review"]} >= {"mdx.review"}


def test_code_shown_in_a_fence_is_no_mdx() -> None:
    doc = (
        "# Release\n## Deploy\n```ts\nimport { x } from './x';\nexport const y = 1;\n```\n"
        "```bash\n./deploy.sh\n```\n"
    )
    result = import_markdown(doc, "DOC.md")
    assert result.report["executable"] is True
    assert not result.report.get("mdx")


# -- §1 "Optionally, …" offers, never orders -----------------------------------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "Optionally, check the metrics:",
        "Optional: check the metrics",
        "If you want, check the metrics:",
        "Falls gewünscht, Metriken prüfen:",
        "Si lo deseas, revisa las métricas:",
        "可选：检查指标",
    ],
)
def test_an_optional_lead_in_makes_what_follows_an_option(lead: str) -> None:
    data = _plan(
        f"# Deploy\n## Deploy the app\n```bash\n./deploy.sh\n```\n\n{lead}\n\n"
        "```bash\ncurl -s http://127.0.0.1:9/metrics\n```\n\nThen restart:\n\n"
        "```bash\n./restart.sh\n```\n"
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "./restart.sh" in forward
    assert "metrics" not in forward
    decided = [s for p in data["phases"] for s in p["steps"] if "metrics" in s.get("run", "")]
    assert decided and all("DECISION_" in s["when"] for s in decided)


@pytest.mark.parametrize(
    "aside",
    [
        "Optionally, check the logs:",
        "Optional: check the logs",
        "Falls gewünscht, Logs prüfen:",
        "# Optionally, check the logs",
        "# optional: tail the logs",
    ],
)
def test_an_optional_aside_in_a_fence_is_not_a_forward_step(aside: str) -> None:
    data = _plan(
        f"# Deploy\n## Deploy the app\n```bash\n./deploy.sh\n\n{aside}\n"
        "kubectl logs deploy/web --tail 20\n```\n"
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "kubectl logs" not in forward
    # an offer is not an order: no manual step blocks the run for it
    assert not any(
        "pause" in s and "logs" in s["name"] and "Decide" not in s["name"]
        for p in data["phases"]
        for s in p["steps"]
    )


def test_an_optional_fence_part_run_for_real_is_skipped_unless_chosen(cli: CLI) -> None:
    doc = (
        '# Deploy\n## Deploy the app\n```bash\ntouch "$RUN_DIR/deployed"\n\n'
        '# Optionally, prune old images\ntouch "$RUN_DIR/PRUNED"\n```\n'
    )
    case = import_case(cli, "optional.md", text=doc)
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr  # asks whether to do the optional part
    [decision] = case.report["decisions"]
    assert decision["choices"][-1] == "none"
    approved = cli("approve", ran.run_id, "--choose", "none", input="")
    assert approved.returncode == 0, approved.stderr
    resumed = cli("resume", ran.run_id, "--no-output", input="")
    assert resumed.returncode == 0, resumed.stderr
    run_dir = Path(json.loads(cli("status", "last", "--json").stdout)["vars"]["RUN_DIR"])
    assert (run_dir / "deployed").exists() and not (run_dir / "PRUNED").exists()


# -- §1, §5 a list item introducing its own fence gives it a role ------------------------------


@pytest.mark.parametrize(
    "lead", ["Restore:", "If the migration fails:", "Rollback:", "Restaurar:", "En caso de error:"]
)
def test_a_list_item_lead_in_makes_its_fence_recovery(lead: str) -> None:
    data = _plan(
        f"""
        # Backup and migrate
        ## PostgreSQL
        - Full backup:

          ```bash
          pg_dump -Fc -f backup.dump app
          ```

        - {lead}

          ```bash
          pg_restore -c -d app backup.dump
          ```
        """
    )
    forward = _forward(data)
    assert "pg_dump -Fc" in forward and "pg_restore" not in forward
    rollback = "\n".join(a["run"] for p in data["phases"] for a in p.get("rollback", []))
    assert "pg_restore -c -d app backup.dump" in rollback


def test_a_list_item_optional_lead_in_makes_its_fence_an_option() -> None:
    data = _plan(
        """
        # Deploy
        ## Deploy
        - Deploy:

          ```bash
          ./deploy.sh
          ```

        - Optionally, warm the cache:

          ```bash
          ./warm-cache.sh
          ```

        - Then verify:

          ```bash
          ./smoke.sh
          ```
        """
    )
    forward = _forward(data)
    assert "./deploy.sh" in forward and "./smoke.sh" in forward
    assert "./warm-cache.sh" not in forward


# -- §3 template slots, timestamps and paths in the reader's words ------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("PGPASSWORD={{DB_PASSWORD}} pg_dump -h {{ db_host }} app", "DB_PASSWORD"),
        ("pg_restore -d app backup_YYYYMMDD_hhmmss.dump", "DATE_YYYYMMDD_HHMMSS"),
        ("cd /votre/chemin/mon-projet/", "DIR_MON_PROJET"),
        ("cp /path/to/app.conf /etc/app.conf", "DIR_APP_CONF"),
        ("cd C:\\tu\\ruta\\proyecto", "DIR_PROYECTO"),
    ],
)
def test_a_template_slot_timestamp_or_readers_path_needs_binding(line: str, name: str) -> None:
    executable, data = _executable(f"# Release\n## Deploy\n```bash\n{line}\n```\n")
    assert executable is False
    assert data["vars"][name]["needs_binding"], data["vars"]


@pytest.mark.parametrize(
    "line",
    [
        "docker inspect -f '{{.State.Running}}' web",
        "kubectl get pods -o go-template='{{range .items}}{{.metadata.name}}{{end}}'",
        "ls /usr/share/doc/app",
        "kubectl apply -f k8s/deploy.yaml",
    ],
)
def test_go_templates_and_real_paths_are_no_placeholders(line: str) -> None:
    executable, data = _executable(f"# Release\n## Deploy\n```bash\n{line}\n```\n")
    assert executable is True, data.get("vars")


# -- §1 commands for one platform each are alternatives -----------------------------------------


def test_per_platform_commands_in_one_fence_are_one_decision() -> None:
    data = _plan(
        """
        # Upgrade
        ## Go to the project
        ```bash
        # MacOS, Linux...
        cd /srv/app
        # Windows
        cd C:\\srv\\app
        ```
        """
    )
    runs = {s["run"]: s.get("when") for p in data["phases"] for s in p["steps"] if "run" in s}
    assert set(runs) == {"cd /srv/app", "cd C:\\srv\\app"}
    assert all(runs.values()) and len(set(runs.values())) == 2


@pytest.mark.parametrize(
    "pair", [("### macOS", "### Windows"), ("**On Linux:**", "**On Windows:**")]
)
def test_per_platform_sections_and_lead_ins_are_one_decision(pair: tuple[str, str]) -> None:
    first, second = pair
    data = _plan(
        f"# Install\n## Install the CLI\n{first}\n\n```bash\nbrew install tool\n```\n\n"
        f"{second}\n\n```bash\nchoco install tool\n```\n"
    )
    forward = _forward(data)
    assert "brew install" not in forward and "choco install" not in forward


@pytest.mark.parametrize(
    "comment", ["# apt update", "# Windows Server setup", "# Install on macOS"]
)
def test_a_comment_that_mentions_a_platform_is_no_alternative(comment: str) -> None:
    data = _plan(
        f"# Setup\n## Setup\n```bash\n./prepare.sh\n{comment}\nsudo apt-get update\n"
        "# apt install\nsudo apt-get install -y nginx\n```\n"
    )
    forward = _forward(data)
    assert "./prepare.sh" in forward and "apt-get update" in forward and "install -y" in forward


# -- §7 a file edit a person makes between two commands ------------------------------------------


@pytest.mark.parametrize(
    "comment",
    [
        "# edit secrets.local.yaml, then:",
        "# comment out the backend",
        "# fill in your real passwords",
        "# CHANGE THE BACKEND KEY TO prod.tfstate",
    ],
)
def test_an_edit_instruction_in_a_fence_is_a_manual_step_in_its_place(comment: str) -> None:
    data = _plan(
        f"# Secrets\n## Create the secret\n```bash\ncp secrets.example.yaml secrets.local.yaml\n"
        f"{comment}\nkubectl apply -f secrets.local.yaml\n```\n"
    )
    steps = data["phases"][0]["steps"]
    kinds = ["pause" if "pause" in s else s["run"].split()[0] for s in steps]
    assert kinds == ["cp", "pause", "kubectl"], steps
    assert comment.lstrip("# ") in steps[1]["name"]


@pytest.mark.parametrize("comment", ["# Update the deployment image", "# change directory"])
def test_a_comment_describing_the_next_command_is_no_edit(comment: str) -> None:
    data = _plan(
        f"# Deploy\n## Deploy\n```bash\n{comment}\nkubectl set image deploy/web web=web:2\n```\n"
    )
    assert not any("pause" in s for s in data["phases"][0]["steps"])


def test_an_edit_between_commands_run_for_real_waits_for_the_person(cli: CLI) -> None:
    doc = (
        '# Secrets\n## Create the secret\n```bash\ncp /dev/null "$RUN_DIR/copied"\n'
        '# edit the copied file, then:\ntouch "$RUN_DIR/applied"\n```\n'
    )
    case = import_case(cli, "edit.md", text=doc)
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr  # paused: nothing applied before the edit
    assert ran.markers == {"copied"}
    resumed = case.approve(ran)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.markers == {"copied", "applied"}


# -- §3 placeholders are bound before the shell parse --------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "pg_dump -Fc -h <db_host> -p <port> > dump.sql",
        "pg_restore -c -d <db_name> -p <port> < dump.sql",
        "scp <user>@<host>:/var/backup.tar.gz .",
    ],
)
def test_an_angle_placeholder_beside_a_redirection_is_bound_not_prose(line: str) -> None:
    """`-p <port> > dump.sql` is no redirection from a file `port>`: the command is a step
    whose placeholders need binding, never a prose line (a manual step) nor run literally."""
    executable, data = _executable(f"# Backup\n## Dump\n```bash\n{line}\n```\n")
    assert executable is False
    steps = data["phases"][0]["steps"]
    assert [("run" in s, "pause" in s) for s in steps] == [(True, False)], steps
    run = steps[0]["run"]
    assert "<" not in run.replace("< dump.sql", "") and "${" in run
    assert all(v["needs_binding"] for v in data["vars"].values())


# -- §1 tutorial platforms: `cmd`{{execute}} is a command to run --------------------------------


def test_click_to_run_inline_commands_run_in_order_and_copy_does_not() -> None:
    data = _plan(
        """
        # Canary
        Deploy the canary:

        `kubectl apply -f canary.yaml`{{execute}}

        Copy this into the editor: `replicas: 3`{{copy}}

        Then watch it: `kubectl get pods -w`{{execute T2}}

        `curl -sf http://app/healthz`{{execute}}
        """
    )
    phase = data["phases"][0]
    assert [s.get("run") for s in phase["steps"]] == [
        "kubectl apply -f canary.yaml",
        "curl -sf http://app/healthz",
    ]
    assert "replicas: 3" not in _forward(data)
    assert [m["run"] for m in phase["monitors"]] == ["kubectl get pods -w"]


# -- §7 a numbered step of prose alone is done by hand, in its place ------------------------------


def test_a_prose_only_numbered_step_pauses_between_the_commands_around_it(cli: CLI) -> None:
    doc = (
        "# Full restart upgrade\n\n## Step 1: Disable allocation\n\n"
        '```bash\ntouch "$RUN_DIR/disabled"\n```\n\n'
        "## Step 2: Stop and upgrade all nodes\n\n"
        "Stop the service on every node and install the new version.\n\n"
        "## Step 3: Start the cluster\n\n"
        '```bash\ntouch "$RUN_DIR/started"\n```\n'
    )
    case = import_case(cli, "restart.md", text=doc)
    steps = [s for p in case.plan["phases"] for s in p.get("steps", [])]
    assert ["pause" in s for s in steps] == [False, True, False]
    assert "Stop and upgrade all nodes" in steps[1]["name"]
    ran = case.run("--yes")
    assert ran.returncode == 4, ran.stderr  # waits for the person: the cluster is not started
    assert ran.markers == {"disabled"}
    resumed = case.approve(ran)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.markers == {"disabled", "started"}


def test_chinese_ordinal_headings_are_phases_in_order() -> None:
    data = _plan(
        """
        # 升级
        ## 第一步：备份
        ```bash
        ./backup.sh
        ```
        ## 第二步：停止所有节点
        停止集群中所有节点上的服务。
        ## 第三步：部署
        ```bash
        ./deploy.sh
        ```
        """
    )
    phases = data["phases"]
    assert [p["name"] for p in phases] == ["第一步：备份", "第二步：停止所有节点", "第三步：部署"]
    assert ["pause" in s for p in phases for s in p["steps"]] == [False, True, False]


# -- §1/§7 admonitions: a warning is acknowledged, its commands keep their roles ----------------


@pytest.mark.parametrize(
    "warning",
    [
        ":::warning\n- Make sure you back up the database before upgrading!\n:::",
        "::: danger Read this\nMake sure you back up the database before upgrading!\n:::",
        "> [!CAUTION]\n> Make sure you back up the database before upgrading!",
        '!!! warning "Backups"\n\n    Make sure you back up the database before upgrading!',
    ],
)
def test_a_warning_admonition_is_acknowledged_before_what_follows(warning: str) -> None:
    data = _plan(f"# Upgrade\n## 1. Prepare\n{warning}\n\n```bash\n./upgrade.sh\n```\n")
    steps = data["phases"][0]["steps"]
    assert ["pause" in s for s in steps] == [True, False], steps
    assert "back up the database" in steps[0]["name"]
    assert steps[1]["run"] == "./upgrade.sh"
    assert ":::" not in steps[0]["name"] and "[!" not in steps[0]["name"]


def test_a_tip_admonition_is_prose_and_a_fence_inside_a_warning_keeps_its_role() -> None:
    data = _plan(
        """
        # Upgrade
        ## 1. Upgrade
        :::tip
        You can pin the version in `.env`.
        :::

        :::warning
        This restarts the app:

        ```bash
        docker compose up -d app
        ```
        :::
        """
    )
    steps = data["phases"][0]["steps"]
    assert ["pause" in s for s in steps] == [True, False], steps
    assert "restarts the app" in steps[0]["name"] and "pin the version" not in steps[0]["name"]
    assert "docker compose up -d app" in _forward(data)


def test_an_indented_mkdocs_admonition_body_never_runs() -> None:
    data = _plan(
        '# Upgrade\n## 1. Upgrade\n!!! danger "Never on production"\n\n'
        "    rm -rf /var/lib/app/data\n\n"
        "```bash\n./upgrade.sh\n```\n"
    )
    forward = _forward(data)
    assert "./upgrade.sh" in forward and "rm -rf" not in forward


# -- §7 success criteria written one per line behind a mark ---------------------------------------


def test_marked_criteria_lines_are_gates_and_one_over_a_period_is_asked() -> None:
    data = _plan(
        "# Canary\n## Phase 1: Canary\n```bash\n./canary.sh\n```\n"
        "### Success Criteria\n"
        "✅ All pods healthy (0 crashes in 12h)  \n"
        "✅ Dashboards published  \n"
        "☐ Error rate within baseline\n"
    )
    gates = data["phases"][0]["gates"]
    assert [g["manual"] for g in gates] == [
        "All pods healthy (0 crashes in 12h)",
        "Dashboards published",
        "☐ Error rate within baseline",
    ]
    # twelve hours after a run starts cannot be ticked in advance: a person answers
    assert [bool(g.get("checked")) for g in gates] == [False, True, False]


# -- §4 one terminal: functions and arrays reach the fences that use them -------------------------


def test_functions_and_arrays_of_an_earlier_fence_reach_a_later_step(cli: CLI) -> None:
    doc = (
        "# Drain\n\n## Step 1: Helpers\n\n"
        '```bash\nNODES=(node-a node-b)\nmark() {\n  touch "$RUN_DIR/$1"\n}\n```\n\n'
        "## Step 2: Drain each node\n\n"
        '```bash\nfor n in "${NODES[@]}"; do\n  mark "$n"\ndone\n```\n'
    )
    case = import_case(cli, "drain.md", text=doc)
    ran = case.run("--yes")
    assert ran.returncode == 0, ran.stderr
    assert ran.markers == {"node-a", "node-b"}


def test_an_array_a_command_filled_earlier_needs_binding_not_a_rerun() -> None:
    executable, data = _executable(
        """
        # Restart
        ## Step 1: List
        ```bash
        PODS=($(kubectl get pods -o name))
        ```
        ## Step 2: Restart
        ```bash
        for p in "${PODS[@]}"; do kubectl delete "$p"; done
        ```
        """
    )
    assert executable is False
    step = data["phases"][1]["steps"][0]
    assert "PODS" in step["needs_binding"]
    assert step["run"].count("kubectl get pods") == 0  # never run again behind the reader's back


# -- §1 a condition on the reader's setup makes a part optional ---------------------------------


@pytest.mark.parametrize(
    "lead",
    [
        "2. **Upgrade operator** (if managing the operator separately):",
        "2. **Update CRDs** (when using Helm 2):",
        "2. **Actualizar CRDs** (si usas Helm 2):",
    ],
)
def test_a_lead_in_with_a_setup_condition_runs_only_when_chosen(lead: str) -> None:
    data = _plan(
        f"# Upgrade\n## Operator\n1. **Back up**:\n   ```bash\n   ./backup.sh\n   ```\n"
        f"{lead}\n   ```bash\n   kubectl set image deploy/op op=op:2\n   ```\n"
    )
    forward = _forward(data)
    assert "./backup.sh" in forward and "kubectl set image" not in forward
    [step] = [s for s in data["phases"][0]["steps"] if s.get("run", "").startswith("kubectl")]
    assert step["when"].startswith("vars.DECISION_")


# -- §1/§5 rollback filed under emergency procedures; optional parts of a rollback --------------


def test_emergency_procedures_keep_their_rollback_and_a_restore_if_needed_is_asked() -> None:
    data = _plan(
        """
        # Migration
        ## Execute
        ```bash
        npx prisma migrate deploy
        ```
        ## Emergency Procedures
        ### Rollback Execution
        - **Execute rollback script**
          ```bash
          psql $DATABASE_URL -f rollback.sql
          ```
        - **Restore from backup if needed**
          ```bash
          psql $DATABASE_URL < backup.sql
          ```
        ### Emergency Contacts
        - **DBA**: call 555
        """
    )
    forward = _forward(data)
    assert forward == "npx prisma migrate deploy"
    rollback = [a["run"] for p in data["phases"] for a in p.get("rollback", [])]
    # the script runs on rollback; the restore (data written since the backup would be lost)
    # waits for a person's judgement, in the rollback checklist
    assert rollback == ["psql $DATABASE_URL -f rollback.sql"]
    checklist = [
        c for p in data["phases"] for c in p.get("metadata", {}).get("rollback_checklist", [])
    ]
    assert any("backup.sql" in c for c in checklist), checklist


# -- §2 prompts other than `$ `; sessions a reader opens --------------------------------------


def test_root_and_user_prompts_in_an_unlabelled_block_are_commands_and_exit_never_runs() -> None:
    data = _plan(
        "# Upgrade\n## Upgrade\nStop the servers:\n\n"
        "\t# systemctl stop postgresql@14-main\n"
        "\t# su postgres\n"
        "\t(postgres)# /usr/lib/postgresql/15/bin/pg_upgrade --check\n"
        "\t(postgres)# exit\n"
        "\t# systemctl start postgresql@15-main\n"
    )
    steps = data["phases"][0]["steps"]
    run = "\n".join(s["run"] for s in steps if "run" in s)
    live = [ln for ln in run.splitlines() if not ln.lstrip().startswith("#")]
    # what is typed at the `(postgres)#` prompt runs in the shell `su postgres` opened, as
    # postgres: never here as phasegate's user (pg_upgrade refuses root); `exit` ends it
    assert live == [
        "systemctl stop postgresql@14-main",
        "systemctl start postgresql@15-main",
    ]
    # `su postgres` opens a shell for a person: a manual step, never a hung step
    manual = [s.get("name", "") for s in steps if "pause" in s]
    assert any("su postgres" in m for m in manual)
    assert any("pg_upgrade --check" in m for m in manual)


@pytest.mark.parametrize("command", ["su postgres", "su - deploy", "sudo -i", "sudo su -"])
def test_commands_that_open_a_shell_never_end(command: str) -> None:
    assert shellparse.never_ending_text(command) is not None


@pytest.mark.parametrize("command", ["su -c 'id' postgres", "sudo -u postgres psql -c 'select 1'"])
def test_commands_that_only_switch_user_end(command: str) -> None:
    assert shellparse.never_ending_text(command) is None


# -- §3 lower-case bracket placeholders and variables only an example sets ----------------------


def test_lower_case_bracket_placeholders_are_bound() -> None:
    executable, data = _executable(
        "# Upgrade\n## Upgrade\n```bash\n"
        "sudo systemctl stop postgresql@[old version]-[cluster]\n"
        "initdb -D [mountpoint]/pgsql --jobs [number of cpus]\n"
        'echo "[info] done"\n```\n'
    )
    assert executable is False
    run = data["phases"][0]["steps"][0]["run"]
    assert "[" not in run.replace("[info]", "")
    assert {"OLD_VERSION", "CLUSTER", "MOUNTPOINT", "NUMBER_OF_CPUS"} <= set(data["vars"])


def test_a_variable_only_an_example_sets_needs_binding() -> None:
    executable, data = _executable(
        """
        # Release
        ## Release process
        - Determine the version. For example, `version="v1.0.0"`.
        - Create a tag by running `git tag -am $version $version`.
        - Push it by running `git push origin $version`.
        """
    )
    assert executable is False
    assert data["vars"]["version"]["needs_binding"]


# -- §1/§7 list items that order commands in prose ------------------------------------------


def test_list_items_that_order_commands_run_them_in_place_between_the_manual_items() -> None:
    data = _plan(
        """
        # Release
        ## Release Process
        - Check the changelog.
        - Create a tag by running `git tag -a v1 -m v1`.
        - Run `git tag` and ensure the tag looks correct, then push by running `git push origin v1`.
        - If a dependency changed, run `go mod tidy`.
        - Announce the release.
        """
    )
    steps = data["phases"][0]["steps"]
    kinds = [s.get("run") or ("pause" if "pause" in s else "?") for s in steps]
    assert kinds == [
        "pause",
        "git tag -a v1 -m v1",
        "git tag",
        "pause",
        "git push origin v1",
        "pause",
    ]
    assert "ensure the tag looks correct" in steps[3]["name"]
    assert "go mod tidy" not in _forward(data)  # a condition: done by hand, if it applies
    assert "Announce" in steps[-1]["name"] and "go mod tidy" in steps[-1]["name"]


def test_a_command_pasted_as_a_paragraph_runs_and_a_sentence_about_one_does_not() -> None:
    data = _plan(
        """
        # Rolling restart
        1. Disable allocation.
        $ curl -XPUT http://localhost:9200/_cluster/settings -d '{"a":"none"}'
        1. Restart the node.

        curl -XPUT http://localhost:9200/_cluster/settings -d '{"a":null}'

        git is the version control system we use.
        """
    )
    forward = _forward(data)
    assert forward.index('"none"') < forward.index("null")
    assert "git is" not in forward


def test_escaped_numbered_paragraphs_are_manual_steps() -> None:
    data = _plan(
        "# Cutover\n## Cutover\n"
        "&nbsp;&nbsp;1.1\\. Ensure a backup of the server exists.\n\n"
        "&nbsp;&nbsp;1.2\\. Ensure the rollback plan is ready.\n\n"
        "```bash\n./cutover.sh\n```\n"
    )
    steps = data["phases"][0]["steps"]
    assert "pause" in steps[0] and "backup of the server" in steps[0]["name"]
    assert steps[1]["run"] == "./cutover.sh"


# -- §1/§7 what the prose asks of a person ------------------------------------------------------


def test_announced_deletion_is_a_decision_and_inspect_the_output_asks() -> None:
    data = _plan(
        "# Upgrade\n## Upgrade\n```bash\n./upgrade.sh --check\n```\n\n"
        "Inspect carefully the output of the command above for any error.\n\n"
        "```bash\n./upgrade.sh\n```\n\n"
        "The following commands will delete the old cluster's data files:\n\n"
        "```bash\n./delete_old_cluster.sh\n```\n"
    )
    steps = data["phases"][0]["steps"]
    order = [s.get("run") or "pause" for s in steps if s.get("when") is None]
    assert order[:4] == ["./upgrade.sh --check", "pause", "./upgrade.sh", "pause"]
    assert "delete_old_cluster" not in _forward(data)


@pytest.mark.parametrize(
    ("paragraph", "asked"),
    [
        ("**Warning:** this restarts every broker.", True),
        ("⚠️ **IMPORTANT**: the old format cannot be restored.", True),
        ("**NOTE:** With the servers stopped, back up the cluster. Do it now.", True),
        ("**Note:** the dashboard refreshes every minute.", False),
    ],
)
def test_a_bold_label_warning_is_acknowledged_and_a_note_only_when_it_asks(
    paragraph: str, asked: bool
) -> None:
    data = _plan(f"# Upgrade\n## Upgrade\n{paragraph}\n\n```bash\n./upgrade.sh\n```\n")
    phase = data["phases"][0]
    assert ["pause" in s for s in phase["steps"]] == ([True, False] if asked else [False])
    assert "note" not in phase.get("metadata", {})


def test_rollback_criteria_written_as_task_boxes_are_triggers_that_need_binding() -> None:
    data = _plan(
        """
        # Migration
        ## Execute
        ```bash
        npx prisma migrate deploy
        ```
        ## Rollback Criteria
        Execute rollback if any of the following occur:
        - [ ] Data corruption detected
        - [ ] Performance degradation > 50%
        """
    )
    triggers = {t["description"]: t for t in data["triggers"]}
    assert set(triggers) == {"Data corruption detected", "Performance degradation > 50%"}
    assert all(t["action"] == "rollback" and t["needs_binding"] for t in triggers.values())
    assert _forward(data) == "npx prisma migrate deploy"


def test_a_procedure_headed_example_runs_only_when_chosen_and_examples_stay_notes() -> None:
    executable, data = _executable(
        """
        # Playbook
        ## Steps (example)
        ```bash
        ./deploy.sh --env prod
        ```
        ## Examples
        ```bash
        ./deploy.sh --env demo
        ```
        """
    )
    assert executable is False  # nothing runs unless the operator chooses the example
    runs = {s["run"]: s.get("when") for p in data["phases"] for s in p["steps"] if "run" in s}
    assert list(runs) == ["./deploy.sh --env prod"]
    assert runs["./deploy.sh --env prod"] is not None


# -- second blind batch: records typed first, situations as list items, offers, setup sections --


def test_a_dns_record_written_type_first_is_a_manual_step_not_a_command() -> None:
    data = _plan(
        "# DNS\n## Verify the zone\n1. At your DNS provider, add the TXT record:\n\n"
        "   ```sh\n   txt verify.cdn.example.net  476754457-428595283\n   ```\n"
    )
    assert "txt verify" not in _forward(data)
    manual = [s["name"] for p in data["phases"] for s in p.get("steps", []) if "pause" in s]
    manual += [g["manual"] for p in data["phases"] for g in p.get("gates", []) if "manual" in g]
    assert any("verify.cdn.example.net" in m for m in manual), manual


def test_if_list_items_over_their_own_fences_are_one_decision_and_what_follows_runs() -> None:
    data = _plan(
        """
        # DNS
        ## Set up the records
        1. Add a record for your origin.

           * If your origin is a static website: add a CNAME record.

           ```sh
           ibmcloud cis dns-record-create z --type CNAME --name www
           ```

           * If your origin has a public IP, add an A record.

           ```sh
           ibmcloud cis dns-record-create z --type A --name www
           ```

        1. Verify the records.

           ```sh
           dig www.example.net a
           ```
        """
    )
    forward = _forward(data)
    assert "--type CNAME" not in forward and "--type A" not in forward
    assert "dig www.example.net a" in forward  # the option lasts for its own fence only
    [decision] = data["phases"][0]["steps"][:1]
    assert len(decision["pause"]["choose"]["options"]) == 2


def test_a_fence_a_paragraph_offers_is_never_run() -> None:
    data = _plan(
        "# Verify\n## Verify\n```bash\ndig www.example.net a +short\n```\n\n"
        "You can also use the **curl** command to verify the setting on your local server.\n\n"
        "```bash\ncurl --resolve www.example.net:443:192.0.2.1 https://www.example.net\n```\n"
    )
    forward = _forward(data)
    assert "dig www.example.net" in forward and "curl --resolve" not in forward


def test_a_section_that_opens_with_your_setup_is_optional_and_ial_lines_are_no_text() -> None:
    data = _plan(
        """
        # Migrate
        ## Migrate
        ```bash
        ./migrate.sh
        ```
        ## Additional steps for a static website origin
        {: #additional-steps}

        If you are configuring a static website origin, additional steps are required.

        ```bash
        ./add-cname.sh
        ```
        """
    )
    forward = _forward(data)
    assert "./migrate.sh" in forward and "./add-cname.sh" not in forward


def test_a_command_a_numbered_item_names_without_ordering_is_done_by_hand() -> None:
    data = _plan(
        """
        # Cutover
        ## Cutover
        1. Freeze the old site.
        2. Build the new frontend (`npm run build` in `frontend/`).
        3. Deploy by running `./deploy.sh`.
        """
    )
    steps = data["phases"][0]["steps"]
    assert ["pause" in s for s in steps] == [True, False]
    assert "Build the new frontend" in steps[0]["name"] and steps[1]["run"] == "./deploy.sh"
    assert "npm run build" not in _forward(data)


def test_an_example_host_name_is_bound() -> None:
    executable, data = _executable(
        """
        # DNS
        ## Add the domain
        Create a partial zone for your domain (in this example, `cdn-demo.example.net`).

        ```sh
        ibmcloud cis domain-add "cdn-demo.example.net" --type partial
        ```
        """
    )
    assert executable is False
    assert "cdn-demo.example.net" not in _forward(data)
