"""Rollback criteria, threshold tables, rollback budgets and traffic ramps."""

from __future__ import annotations

import textwrap
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from phasegate.markdown import import_markdown, thresholds
from tests.conftest import CLI


def imported(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = import_markdown(textwrap.dedent(text).lstrip("\n"), "doc.md")
    return result.data, result.report


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in data.get("triggers", [])}


def test_thresholds_are_normalised_to_exported_units() -> None:
    cases = {
        "Error rate > 1%": (">", 0.01, "ratio"),
        "Latency p95 > 500ms": (">", 0.5, "seconds"),
        "❌ Memory usage >50MB": (">", 52428800.0, "bytes"),
        "**Availability** < 99.5%": ("<", 0.995, "ratio"),
        "p99 latency above 2s": (">", 2.0, "seconds"),
        "CPU ≥ 80%": (">=", 0.8, "ratio"),
        "Service downtime >5 minutes": (">", 300.0, "seconds"),
        "success rate drops below 98%": ("<", 0.98, "ratio"),
    }
    for text, (op, value, unit) in cases.items():
        found = thresholds.parse(text)
        assert found is not None, text
        assert (found.op, found.value, found.unit) == (op, value, unit), text
    assert thresholds.parse("Policy violations detected") is None
    assert thresholds.parse("p95 > 2x baseline").relative  # type: ignore[union-attr]
    assert thresholds.consecutive("Failed health checks (3 consecutive)") == 3
    assert thresholds.consecutive("3 consecutive failed health checks") == 3
    assert thresholds.consecutive("fails 4 times in a row") == 4
    assert thresholds.sustained("> 5% for 5 minutes") == 300.0
    assert thresholds.duration("⚡ **<5 Minutes Guaranteed**") == 300.0


@given(st.text(max_size=200))
def test_threshold_parsing_never_raises(text: str) -> None:
    found = thresholds.parse(text)
    if found is not None:
        assert found.op in (">", ">=", "<", "<=")
        assert found.condition().startswith("value ")
    thresholds.consecutive(text)
    thresholds.sustained(text)
    thresholds.duration(text)


@given(
    st.sampled_from(["error rate", "p95 latency", "queue depth"]),
    st.sampled_from([">", "<", ">=", "<="]),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["%", "ms", "s", ""]),
)
def test_a_written_comparison_round_trips(metric: str, op: str, number: int, unit: str) -> None:
    found = thresholds.parse(f"{metric} {op} {number}{unit}")
    assert found is not None
    scale = {"%": 0.01, "ms": 0.001, "s": 1.0, "": 1.0}[unit]
    assert (found.metric, found.op) == (metric, op)
    assert abs(found.value - number * scale) < 1e-9


def test_automatic_rollback_triggers_become_bound_or_listed_triggers() -> None:
    data, report = imported("""
        # Release
        ## Phase 1: Deploy
        ```bash
        curl -fsS http://127.0.0.1:8080/healthz
        ```
        ## Rollback Criteria
        **Automatic Rollback Triggers:**
        - Error rate > 1%
        - Latency p95 > 500ms
        - Failed health checks (3 consecutive)
        - Security incidents
        - Deployment script fails

        **Manual Rollback:**
        - User-reported critical bugs
    """)
    triggers = by_name(data)
    assert set(triggers) == {"error-rate", "latency-p95", "health-check", "security-incidents"}
    error = triggers["error-rate"]
    assert error["check"]["failure"] == "value > 0.01" and error["action"] == "rollback"
    assert error["check"]["provider"] == {"prometheus": {"url": "${PROMETHEUS_URL}"}}
    assert triggers["latency-p95"]["check"]["failure"] == "value > 0.5"
    health = triggers["health-check"]
    # The document names its health endpoint: nothing to bind.
    assert health["check"] == {"http": "http://127.0.0.1:8080/healthz", "expect": {"status": 200}}
    assert health["fail_after"] == 3 and "needs_binding" not in health
    # No number: kept, failing until bound, never silently passing.
    assert triggers["security-incidents"]["check"]["expr"] == "false"
    assert [c["what"] for c in report["covered"]] == ["Deployment script fails"]
    assert [b["line"] for b in report["needs_binding"]] == [8, 9, 11]
    assert data["metadata"]["rollback_checklist"] == ["User-reported critical bugs"]
    assert report["executable"] is False


def test_threshold_tables_give_alert_and_rollback_triggers_per_column() -> None:
    data, _ = imported("""
        # Service
        ## Monitoring
        | Metric | Target | Warning | Critical |
        |--------|--------|---------|----------|
        | Error rate | < 0.1% | > 1% | > 5% |
        | P95 latency | < 200ms | > 500ms | > 2s |
    """)
    triggers = by_name(data)
    assert triggers["error-rate"]["action"] == "alert"
    assert triggers["error-rate"]["check"]["failure"] == "value > 0.01"
    assert triggers["error-rate-critical"]["action"] == "rollback"
    assert triggers["error-rate-critical"]["check"]["failure"] == "value > 0.05"
    assert triggers["p95-latency-critical"]["check"]["failure"] == "value > 2.0"
    assert len(triggers) == 4  # the Target column states the goal, not a trigger


def test_triggers_in_a_phase_watch_only_that_phase() -> None:
    data, _ = imported("""
        # Release
        ## Stage 1: Canary
        ```bash
        ./deploy-canary.sh
        ```
        ### Abort conditions
        - error rate exceeds 2% for 5 minutes
        ## Stage 2: Everyone
        ```bash
        ./deploy-all.sh
        ```
    """)
    (trigger,) = data["triggers"]
    assert trigger["during"] == ["stage-1-canary"]
    assert trigger["fail_after"] == 10  # 5 minutes at one evaluation every 30 s


def test_rollback_time_guarantees_become_rollback_budgets() -> None:
    data, _ = imported("""
        # Framework rollout
        **Rollback Time**: <5 Minutes Guaranteed
        ## Stage 1: Backup
        ```bash
        cp -a app backup
        ```
        **Rollback Time from this stage**: <1 minute
        ## Stage 2: Deploy
        ```bash
        ./deploy.sh
        ```
        ## Rollback Time Guarantees
        | Stage | Rollback Time |
        |-------|---------------|
        | **Stage 2** | <3 minutes |
    """)
    assert data["budget"] == {"rollback": "300s"}
    phases = {p["id"]: p for p in data["phases"]}
    assert phases["stage-1-backup"]["rollback_budget"] == "60s"
    assert phases["stage-2-deploy"]["rollback_budget"] == "180s"


def test_a_traffic_table_becomes_set_weight_steps_and_a_router_to_bind() -> None:
    data, report = imported("""
        # Canary
        **Mission**: gradual rollout (5% → 25% → 100%)
        ## Phase 1: Deploy
        ```bash
        ./deploy.sh
        ```
        ## Traffic Ramp-up Schedule
        | Day | Traffic % | Actions |
        |-----|-----------|---------|
        | 1-2 | 5% | Monitor baseline |
        | 3-4 | 25% | First increase |
        | 5 | 100% | Full production |
    """)
    ramp = next(p for p in data["phases"] if p["id"] == "traffic-ramp-up-schedule")
    assert [s.get("set_weight", "pause") for s in ramp["steps"]] == [5, "pause", 25, "pause", 100]
    assert ramp["steps"][0]["name"] == "Day 1-2: 5% (Monitor baseline)"
    # the days between rows are a wait a run cannot sleep: a person proceeds
    assert ramp["steps"][1] == {
        "name": "proceed to Day 3-4: 25% (First increase) — the document waits 2 days first",
        "pause": "approve",
    }
    assert ramp["needs"] == ["phase-1-deploy"]
    assert "needs_binding" in data["traffic"] and "router" not in data["traffic"]
    # The summary sequence states the same ramp: imported once.
    applied = [t for t in report["traffic"] if t["applied"]]
    assert [t["weights"] for t in applied] == [[5, 25, 100]]


def test_allocation_columns_adding_up_to_100_become_backends() -> None:
    data, _ = imported("""
        # Rollout
        ## Traffic Allocation
        | Week | Sandbox | Canary | Production |
        |------|---------|--------|------------|
        | 1 | 100% | 0% | 0% |
        | 2 | 20% | 80% | 0% |
        | 3 | 5% | 5% | 90% |
    """)
    assert data["traffic"]["backends"] == ["sandbox", "canary", "production"]
    assert data["traffic"]["baseline"] == {"sandbox": 100}
    (phase,) = data["phases"]
    weights = [s["set_weight"] for s in phase["steps"] if "set_weight" in s]
    assert weights[2] == {"sandbox": 5, "canary": 5, "production": 90}


def test_a_sequence_in_prose_becomes_steps_where_it_is_written() -> None:
    data, _ = imported("""
        # Release
        ## Phase 1: Canary
        ```bash
        ./deploy-canary.sh
        ```
        Shift traffic 10% → 50% → 100%, watching the dashboards.
        ```bash
        ./finalize.sh
        ```
    """)
    (phase,) = data["phases"]
    assert [s.get("set_weight", s.get("run")) for s in phase["steps"]] == [
        "./deploy-canary.sh",
        10,
        50,
        100,
        "./finalize.sh",
    ]


def test_task_boxes_stay_gates_even_when_they_state_thresholds() -> None:
    data, _ = imported("""
        # Release
        ## Phase 1: Canary
        ```bash
        ./canary.sh
        ```
        ### Rollback criteria
        - [ ] Error rate < 1% for an hour
    """)
    assert "triggers" not in data


def test_sql_and_promql_fences_under_verify_become_checks(cli: CLI) -> None:
    document = cli.cwd / "doc.md"
    document.write_text(
        textwrap.dedent("""
        # Release
        ## Phase 1: Migrate
        ```bash
        ./migrate.sh
        ```
        ### Verify
        Should return 0 rows:
        ```sql
        SELECT id FROM orders WHERE total < 0;
        ```
        Error ratio should stay below 1%:
        ```promql
        sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))
        ```
        ```yaml
        replicas: 3
        ```
        """).lstrip(),
        encoding="utf-8",
    )
    data, report = imported(document.read_text(encoding="utf-8"))
    sql, metric = data["phases"][0]["gates"]
    assert sql == {
        "sql": "SELECT id FROM orders WHERE total < 0;",
        "database": "${DATABASE_URL}",
        "expect": {"empty": True},
    }
    assert metric["success"] == "value < 0.01"
    assert metric["provider"] == {"prometheus": {"url": "${PROMETHEUS_URL}"}}
    assert [d["lang"] for d in report["data"]] == ["yaml"]
    # Until the environment names the database, the plan is not executable as written.
    result = cli("validate", "doc.md")
    assert result.returncode == 2 and "vars.DATABASE_URL: needs binding" in result.stderr
    db = cli.cwd / "app.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, total INTEGER)")
    conn.close()
    bound = cli("validate", "doc.md", env={"DATABASE_URL": str(db)})
    assert bound.returncode == 0, bound.stderr


def test_a_duration_column_becomes_each_weight_bake() -> None:
    data, _ = imported(
        "# Rollout\n\n## Canary\n\n### Traffic schedule\n\n"
        "| Stage | Canary | Duration |\n|---|---|---|\n"
        "| 1 | 5% | 30 min |\n| 2 | 25% | 2 hours |\n| 3 | 100% | 10m |\n"
    )
    steps = [s for p in data["phases"] for s in p["steps"] if "set_weight" in s]
    assert [(s["set_weight"], s.get("bake")) for s in steps] == [
        (5, "30m"),
        (25, "2h"),
        (100, "10m"),
    ]
