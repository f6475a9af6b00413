"""Safety classes of issue 11 §1/§2/§3/§12, each from a small synthetic document of the class
(never a corpus document): what must never run on the forward path, never hang a step or gate,
or never be claimed executable."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, shellparse


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
        terraform apply
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
