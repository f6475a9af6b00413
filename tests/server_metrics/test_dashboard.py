"""The Grafana dashboard queries only metrics the server exports, in valid PromQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from tests.server_metrics.conftest import Journal

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "phasegate.json"
SEED_PANELS = (
    "Status",
    "Violations",
    "Success rate",
    "Last check",
    "History",
    "Failures by type",
    "Mean time to fix",
    "Critical checks",
)
EXTRA_PANELS = ("Rollback duration vs budget", "Detection-to-rollback latency", "Canary weight")
# Words of PromQL that are not metric names: aggregations, keywords, modifiers.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def expressions() -> list[str]:
    return [t["expr"] for panel in dashboard()["panels"] for t in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are not functions, keywords,
    label names (inside ``{}`` or a grouping), durations or strings."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', "", expr)  # strings ("$plan", regexes)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # grouping label lists
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)  # offset 5m
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", " ", text)  # numbers
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):
            continue  # a function call: sum, rate, histogram_quantile, time…
        if match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


def test_the_name_extraction_skips_functions_labels_and_keywords() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, plan) (rate(a_bucket{plan=~"$plan"}[1h])))'
        " / on (plan) group_left b_total offset 5m > bool 0 and time() - c"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_the_dashboard_has_the_seed_panels_and_the_rollout_ones() -> None:
    data = dashboard()
    titles = [panel["title"] for panel in data["panels"]]
    for title in (*SEED_PANELS, *EXTRA_PANELS):
        assert title in titles
    assert data["schemaVersion"] >= 36  # Grafana 10
    assert [i["name"] for i in data["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {v["name"]: v for v in data["templating"]["list"]}
    assert variables["plan"]["type"] == "query" and variables["plan"]["includeAll"]
    for panel in data["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert panel["targets"], panel["title"]
    assert len({panel["id"] for panel in data["panels"]}) == len(data["panels"])


def test_every_queried_metric_is_exported_and_every_family_is_shown(journal: Journal) -> None:
    registry, _ = journal.registry()
    generate_latest(registry)  # a scrape, like Prometheus's
    families = list(registry.collect())
    samples = {s.name for family in families for s in family.samples}
    # A histogram's or counter's series exist even before they have samples.
    for family in families:
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        samples |= {family.name + s for s in suffixes.get(family.type, [""])}
    variable = dashboard()["templating"]["list"][1]["definition"]
    selector = re.fullmatch(r"label_values\((\w+),\s*plan\)", variable)
    assert selector, variable  # Grafana's function, not PromQL: its first argument is a metric
    used = set().union(*map(metric_names, expressions())) | {selector.group(1)}
    assert used, "no metric found in the dashboard"
    assert used <= samples, f"not exported: {sorted(used - samples)}"
    shown = {name for name in used for f in families if name.startswith(f.name)}
    unused = {f.name for f in families if not any(n.startswith(f.name) for n in shown)}
    assert not unused, f"exported but on no panel: {sorted(unused)}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_every_expression_is_valid_promql(tmp_path: Path) -> None:
    """promtool (Prometheus's own parser) checks each query as a recording rule."""
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$__range", "1h")}
        for n, expr in enumerate(expressions())
    ]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
