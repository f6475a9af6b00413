"""What an item observed, as labelled fields a person reads at a glance, plus the rest folded
away as ``path: value`` lines (shown in a collapsed ``<details>``).

The journal keeps each check's observation as a JSON object (an http check's status, latency
and body; a command's exit code; an analysis's whole verdict with every metric's queries).
Pasting that object into a card made it unreadable and overflowed the column; Argo Rollouts'
UI shows an analysis as a verdict plus one line per metric, with the raw measurement behind a
click, and so do we. Nothing here emits JSON: values are scalars, formatted as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from phasegate.run.record import JsonDict

# Observed keys worth a label, in the order they are shown; the rest goes into the details.
LABELS = {
    "exit_code": "exit code",
    "status": "status",
    "value": "value",
    "latency_ms": "latency",
    "verdict": "verdict",
    "score": "score",
    "reason": "reason",
    "approved_by": "approved by",
    "exists": "exists",
    "rows": "rows",
    "connected": "connected",
}
DETAIL_LINES = 40
VALUE_CHARS = 160


class ObservedFields(TypedDict):
    fields: list[tuple[str, str]]  # (label, text), shown
    details: list[tuple[str, str]]  # (path, text), folded away


def observed_fields(item: Mapping[str, Any]) -> ObservedFields:
    """``{"fields": [(label, text)], "details": [(path, text)]}`` for one item."""
    observed = item.get("observed")
    fields: list[tuple[str, str]] = []
    details: list[tuple[str, str]] = []
    if isinstance(observed, dict):
        metrics = observed.get("metrics")
        if isinstance(metrics, dict):
            fields += _analysis_fields(observed, metrics)
            shown = {"verdict", "reason", "score", "metrics"}
            details += _flatten({k: v for k, v in observed.items() if k not in shown})
            details += _metric_details(metrics)
        else:
            for key, label in LABELS.items():
                if key in observed and not isinstance(observed[key], dict | list):
                    fields.append((label, _scalar(key, observed[key])))
                elif key == "approved_by" and isinstance(observed.get(key), list):
                    fields.append((label, ", ".join(str(v) for v in observed[key])))
            details += _flatten({k: v for k, v in observed.items() if k not in LABELS})
    elif observed is not None:
        fields.append(("observed", _text(observed)))
    if item.get("expectation"):
        fields.append(("expected", _text(item["expectation"])))
    return {"fields": fields, "details": details[:DETAIL_LINES]}


def _analysis_fields(observed: JsonDict, metrics: JsonDict) -> list[tuple[str, str]]:
    fields = [("verdict", _text(observed.get("verdict") or "-"))]
    if observed.get("reason"):
        fields.append(("reason", _text(observed["reason"])))
    for name, metric in metrics.items():
        if not isinstance(metric, dict):
            continue
        counts = [
            f"{metric[s]} {s}"
            for s in ("successful", "warning", "failed", "inconclusive", "error", "no_data")
            if metric.get(s)
        ]
        last = metric.get("last")
        newest = last[-1] if isinstance(last, list) and last else None
        value = newest.get("value") if isinstance(newest, dict) else None
        text = ", ".join(counts) or "no measurements"
        if value is not None:
            text += f"; last {_number(value)}"
        fields.append((str(name), text))
    return fields


def _metric_details(metrics: JsonDict) -> list[tuple[str, str]]:
    """Per metric: its judgement and the last measurement's message and query (not every
    measurement: the Analysis section lists those)."""
    lines: list[tuple[str, str]] = []
    for name, metric in metrics.items():
        if not isinstance(metric, dict):
            continue
        if metric.get("message"):
            lines.append((f"{name}", _text(metric["message"])))
        last = metric.get("last")
        if isinstance(last, list) and last and isinstance(last[-1], dict):
            observed = last[-1].get("observed")
            if isinstance(observed, dict) and observed.get("query"):
                lines.append((f"{name} query", _text(observed["query"])))
    return lines


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for key, inner in value.items():
            out += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, ", ".join(_text(v) for v in value) or "none")]
        return [(prefix, f"{len(value)} entries")]
    return [(prefix, _text(value))] if value is not None else []


def _scalar(key: str, value: Any) -> str:
    if key == "latency_ms" and isinstance(value, int | float):
        return f"{value:g} ms"
    return _number(value) if isinstance(value, float) else _text(value)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
