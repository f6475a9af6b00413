"""The run page: a bounded window over long phases, the operations offered for each run
state, and observed values as labelled fields."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasegate.server.dashboard.dag import dag_svg, waves
from phasegate.server.dashboard.fields import observed_fields
from phasegate.server.dashboard.views import (
    ATTENTION,
    WINDOW,
    log_tail,
    monitor_logs,
    operations,
    window,
)

STATUSES = ["succeeded", "passed", "pending", "not_run", "running", "failed", "skipped"]


@given(st.lists(st.sampled_from(STATUSES), max_size=3000))
def test_the_window_is_bounded_keeps_what_matters_and_counts_the_rest(
    statuses: list[str],
) -> None:
    items = [{"key": f"p/s{i}", "status": s} for i, s in enumerate(statuses)]
    shown = window(items)
    kept = [i for i in shown if "gap" not in i]
    hidden = sum(i["gap"] for i in shown if "gap" in i)
    assert len(kept) + hidden == len(items)  # nothing lost: shown or counted
    attention = [i for i in items if i["status"] in ATTENTION]
    assert all(i in kept for i in attention)
    if len(items) > WINDOW:
        assert len(kept) <= len(attention) + 12 + 8
    else:
        assert shown == items
    order = [int(i["key"][3:]) for i in kept]
    assert order == sorted(order)  # in plan order


def _doc(status: str, items: list[dict[str, object]], canary: bool = False) -> dict[str, object]:
    return {
        "run": {"id": "r", "status": status},
        "phases": [{"id": "p", "items": items}],
        "traffic": {"history": [], "promoted": None} if canary else None,
        "rollback": None,
    }


AWAITING = {"key": "p/hold", "status": "awaiting_approval"}
BAKING = {"key": "p/bake", "status": "running", "until": 1e12}
RUNNING = {"key": "p/build", "status": "running"}


@pytest.mark.parametrize(
    ("status", "items", "canary", "expected"),
    [
        (
            "paused",
            [AWAITING],
            True,
            ["approve", "reject", "promote", "promote_full", "abort", "rollback"],
        ),
        ("paused", [AWAITING], False, ["approve", "reject", "abort", "rollback"]),
        ("running", [BAKING], True, ["promote", "promote_full", "abort"]),
        ("running", [RUNNING], True, ["abort"]),  # a canary run, but nothing holds
        ("running", [RUNNING], False, ["abort"]),
        ("interrupted", [RUNNING], False, ["resume", "abort", "rollback"]),
        ("paused", [], False, ["resume", "abort", "rollback"]),
        ("succeeded", [], True, ["rollback"]),
        ("failed", [], False, ["rollback"]),
        ("rolled_back", [], True, []),
    ],
)
def test_operations_are_offered_only_when_valid(
    status: str, items: list[dict[str, object]], canary: bool, expected: list[str]
) -> None:
    assert operations(_doc(status, items, canary)) == expected


def test_no_operation_but_rollback_progress_while_rolling_back() -> None:
    doc = _doc("rolling_back", [AWAITING], True)
    doc["rollback"] = {"status": None}
    assert operations(doc) == []


def test_an_analysis_verdict_is_labelled_fields_never_json() -> None:
    observed = {
        "verdict": "passed",
        "reason": "completed",
        "score": None,
        "metrics": {
            "error-rate": {
                "successful": 3,
                "failed": 0,
                "message": "value 0: success value <= 0.01",
                "last": [{"value": 0.0, "observed": {"query": 'sum(rate(x{code=~"5.."}[5s]))'}}],
            }
        },
    }
    shown = observed_fields({"observed": observed, "expectation": None})
    assert shown["fields"] == [
        ("verdict", "passed"),
        ("reason", "completed"),
        ("error-rate", "3 successful; last 0"),
    ]
    assert ("error-rate query", 'sum(rate(x{code=~"5.."}[5s]))') in shown["details"]
    text = repr(shown)
    assert '{"' not in text and "\\u003c" not in text


def test_a_command_gate_shows_its_exit_code_and_folds_its_output() -> None:
    item = {
        "observed": {"exit_code": 0, "stdout": "ok\n", "x": {"y": [1, 2]}},
        "expectation": "exit == 0",
    }
    shown = observed_fields(item)
    assert shown["fields"] == [("exit code", "0"), ("expected", "exit == 0")]
    assert shown["details"] == [("stdout", "ok\n"), ("x.y", "1, 2")]


def test_the_dag_draws_one_arrow_per_need_and_escapes_names() -> None:
    phases = [
        {"id": "a", "name": "<script>x()</script>", "status": "succeeded"},
        {"id": "b", "needs": ["a"], "status": "running"},
        {"id": "c", "needs": ["a"], "status": "pending"},
        {"id": "d", "needs": ["b", "c"], "status": "pending"},
    ]
    columns = waves(phases)
    assert [[p["id"] for p in column] for column in columns] == [["a"], ["b", "c"], ["d"]]
    svg = str(dag_svg(columns))
    edges = re.findall(r'data-from="(\w)" data-to="(\w)"', svg)
    assert sorted(edges) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    # Columns left to right: d's box starts right of b's, which starts right of a's.
    x = {
        node: float(value)
        for node, value in re.findall(
            r'data-node="(\w)"><title>[^<]*</title><rect x="([\d.]+)"', svg
        )
    }
    assert x["a"] < x["b"] == x["c"] < x["d"]


def _tail(logs: dict[str, str]) -> Callable[[str], str]:
    return lambda key: logs.get(key, "")


def test_the_log_follows_the_running_command_else_the_last_one_that_ran() -> None:
    tail = _tail(
        {"p/build": "=== p/build\ncompiled\n", "p/deploy": "=== p/deploy\nhost-1\nhost-2\n"}
    )
    build = {"key": "p/build", "kind": "step", "status": "succeeded", "started_at": 1.0}
    build["log"] = "somewhere"
    deploy = {"key": "p/deploy", "kind": "step", "status": "running", "started_at": 2.0}
    shown = log_tail([build, deploy], tail)
    assert shown is not None and shown["key"] == "p/deploy" and shown["running"]
    assert shown["lines"][-2:] == ["host-1", "host-2"]
    # A canary step holding (no command, no log) leaves the last command's log shown.
    bake = {"key": "p/set-weight-50", "kind": "step", "status": "running", "started_at": 3.0}
    shown = log_tail([build, bake], tail)
    assert shown is not None and shown["key"] == "p/build" and not shown["running"]
    assert shown["lines"] == ["=== p/build", "compiled"]


def test_each_monitor_shows_its_status_and_its_last_log_lines() -> None:
    tail = _tail(
        {"p/monitor:pods": "=== p/monitor:pods\n" + "".join(f"line {i}\n" for i in range(20))}
    )
    doc = {
        "monitors": [
            {"key": "p/monitor:pods", "phase": "p", "name": "pods", "status": "running"},
            {
                "key": "p/monitor:gone",
                "phase": "p",
                "name": "gone",
                "status": "stopped",
                "message": "stopped by phasegate",
            },
        ]
    }
    pods, gone = monitor_logs(doc, tail)
    assert pods["running"] and pods["lines"] == [f"line {i}" for i in range(12, 20)]
    assert not gone["running"] and gone["lines"] == []
