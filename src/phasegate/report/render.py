"""Render the report document (``report.data.build``) as Markdown, HTML or JSON.

The report is meant to be attached to a change ticket, so both text formats are single files:
the HTML carries its CSS and its timeline (an SVG computed here) inline and references nothing
outside itself. Every value in the document may come from the plan author or from command
output, so the HTML environment always autoescapes and the Markdown filters neutralise the
characters that would break a table or smuggle in markup. Secrets are already masked by the
time the document is built; rendering adds nothing that is not in the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NotRequired, TypedDict, cast
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from phasegate.durations import format_duration
from phasegate.report.document import (
    ItemView,
    Measurement,
    MetricRow,
    PhaseView,
    ReportDoc,
    RunView,
)
from phasegate.report.weight_chart import chart_svg
from phasegate.run.record import JsonValue
from phasegate.traffic.base import describe_weights

FORMATS = ("md", "html", "json")
OBSERVED_LIMIT = 300
RECENT_MEASUREMENTS = 10  # per metric; the document keeps up to the journal's last 20
_ITEM_FIELDS = (
    "attempt",
    "exit_code",
    "started_at",
    "finished_at",
    "duration",
    "command",
    "message",
    "expectation",
    "observed",
    "severity",
    "attempts",
    "outputs",
    "log",
    "operator",
    "unknown_count",
)


RunHref = Callable[[str], str | None]


class Context(TypedDict):
    """What a report template is given."""

    data: ReportDoc  # every item with every field (``_complete``)
    run: RunView
    names: dict[str, str]  # item key -> the name a reader knows it by
    run_href: RunHref
    gantt: NotRequired[Gantt | None]  # html only
    weight_chart: NotRequired[Markup | None]  # html only


def served_href(run_id: str) -> str:
    """Another run's report where the dashboard serves this one (/ui/runs/RUN/report)."""
    return f"../{quote(run_id, safe='')}/report"


def no_href(run_id: str) -> None:
    """No link (stdout: where the text lands is unknown); the run id is shown as text."""
    return None


def render(data: ReportDoc, fmt: str, run_href: RunHref = served_href) -> str:
    """The report as text. ``run_href`` says where another run's report is (a parent's, a
    child's), None for no link: the dashboard's URL by default; report/bundle.py gives the
    sibling files of a written report."""
    if fmt == "json":
        return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    view = _complete(data)
    context: Context = {
        "data": view,
        "run": view["run"],
        "names": _names(view),
        "run_href": run_href,
    }
    if fmt == "html":
        context["gantt"] = build_gantt(view)
        context["weight_chart"] = chart_svg(view)
    return _environment(fmt).get_template(f"report.{fmt}.j2").render(context)


# -- document ---------------------------------------------------------------------------------


def _complete(data: ReportDoc) -> ReportDoc:
    """Give every item every field, so templates can use StrictUndefined and still show
    not-run items (which the document records with only key, kind, name and status)."""
    phases: list[PhaseView] = [
        {**p, "items": [_full_item(i) for i in p["items"]]} for p in data["phases"]
    ]
    rollback = data["rollback"]
    if rollback is not None:
        rollback = {
            **rollback,
            "actions": [_full_item(i) for i in rollback["actions"]],
            "verify": [_full_item(i) for i in rollback["verify"]],
        }
    return {**data, "phases": phases, "rollback": rollback}


def _full_item(item: ItemView) -> ItemView:
    # Every field the templates read, None where the item has none.
    return cast(ItemView, {**dict.fromkeys(_ITEM_FIELDS), **item})


def _names(data: ReportDoc) -> dict[str, str]:
    """Item key -> the name a reader knows it by, for warnings and the failure line."""
    items = [i for p in data["phases"] for i in p["items"]]
    if data["rollback"] is not None:
        items += data["rollback"]["actions"] + data["rollback"]["verify"]
    return {i["key"]: i["name"] for i in items if i.get("name") and i["name"] != i["key"]}


# -- filters ----------------------------------------------------------------------------------


def iso_utc(ts: float | None) -> str:
    if ts is None:
        return "-"
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact_json(value: Any, limit: int = OBSERVED_LIMIT) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dash(value: Any) -> Any:
    return "-" if value is None or value == "" else value


def status_class(status: Any) -> str:
    """A CSS class for a status; statuses come from the engine, but a class name is markup."""
    return "st-" + re.sub(r"[^a-z0-9_]", "", str(status or "none").lower())


def md_text(value: Any) -> str:
    """Text safe inside a Markdown table cell: no row breaks, no column breaks, no markup."""
    if value is None or value == "":
        return "-"
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def md_code(value: Any) -> str:
    """A Markdown code span (commands, JSON) that survives backticks, pipes and newlines."""
    if value is None or value == "":
        return "-"
    text = re.sub(r"\r\n|\r|\n", " ⏎ ", str(value)).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def budget_note(spent: float | None, budget: float | None, overrun: bool = False) -> str:
    if budget is None:
        return f"{format_duration(spent)} (no budget)"
    over = over_budget(spent, budget, overrun)
    return f"{format_duration(spent)} of {format_duration(budget)} budget" + (
        " — OVERRUN" if over else ""
    )


def attempts(item: ItemView) -> int | None:
    """Gates count evaluations (``attempts``), steps count runs (``attempt``); 0 means none."""
    return item.get("attempts") or item.get("attempt") or None


def exit_code(item: ItemView) -> JsonValue:
    """A step's exit code, or the one a command check observed."""
    observed = item.get("observed")
    if item.get("exit_code") is None and isinstance(observed, dict):
        return observed.get("exit_code")
    return item.get("exit_code")


def over_budget(spent: float | None, budget: float | None, overrun: bool = False) -> bool:
    return overrun or (spent is not None and budget is not None and spent > budget)


def weights_text(weights: dict[str, int] | None) -> str:
    return describe_weights(weights) if weights else "-"


def measured_value(value: Any) -> str:
    """A measurement's value: compact for numbers; infinities arrive as text."""
    if value is None:
        return "no value"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:.6g}"
    return str(value)


def condition(metric: MetricRow) -> str:
    """What the metric's values are judged by, as the plan wrote it."""
    conditions = (
        ("failure", metric.get("failure")),
        ("success", metric.get("success")),
        ("warning", metric.get("warning")),
    )
    return "; ".join(f"{name}: {text}" for name, text in conditions if text)


MEASUREMENT_STATUSES = ("successful", "warning", "failed", "inconclusive", "error", "no_data")
# An analysis item's status that its verdict already says (any other is shown beside it).
QUIET_STATUSES = ("succeeded", "passed", "failed", "warned", "running")


def counts(metric: MetricRow) -> str:
    """Measurements per status, in a fixed order, zeros left out: "successful 2, failed 1"."""
    tally = metric.get("counts") or {}
    shown = [f"{s.replace('_', ' ')} {tally[s]}" for s in MEASUREMENT_STATUSES if tally.get(s)]
    return ", ".join(shown) or "none"


def recent(metric: MetricRow) -> list[Measurement]:
    return list(metric.get("last") or [])[-RECENT_MEASUREMENTS:]


@cache
def _environment(fmt: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("phasegate.report", "templates"),
        # HTML: always escape, whatever the template name; Markdown escapes through filters.
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        ts=iso_utc,
        duration=format_duration,
        json=compact_json,
        dash=dash,
        status=status_class,
        md=md_text,
        code=md_code,
        budget=budget_note,
        weights=weights_text,
        value=measured_value,
    )
    env.globals.update(
        over_budget=over_budget,
        attempts=attempts,
        exit_code=exit_code,
        condition=condition,
        recent=recent,
        counts=counts,
        QUIET_STATUSES=QUIET_STATUSES,
    )
    return env


# -- timeline ---------------------------------------------------------------------------------

LABEL_WIDTH = 250
CHART_WIDTH = 700
ROW_HEIGHT = 20
AXIS_HEIGHT = 24
MIN_BAR = 2.0
LABEL_CHARS = 36


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    status: str
    open: bool  # still running (or paused) when the report was made


@dataclass(frozen=True)
class Row:
    label: str
    title: str
    kind: str  # phase | item | rollback-span | rollback | verify
    x: int  # items are indented under their phase (SVG collapses leading spaces)
    y: float
    bar: Bar | None


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Gantt:
    width: int
    height: int
    rows: list[Row]
    ticks: list[Tick]


@dataclass(frozen=True)
class _Span:
    label: str
    kind: str
    status: str
    start: float | None
    end: float | None


class _Scale:
    def __init__(self, t0: float, t1: float) -> None:
        self.t0 = t0
        self.span = max(t1 - t0, 1e-3)

    def x(self, ts: float) -> float:
        return round(LABEL_WIDTH + (ts - self.t0) / self.span * CHART_WIDTH, 2)

    def bar(self, span: _Span, t_end: float) -> Bar | None:
        if span.start is None:
            return None
        end = span.end if span.end is not None else t_end
        left = self.x(span.start)
        width = max(self.x(end) - left, MIN_BAR)
        return Bar(left, round(width, 2), span.status, span.end is None)


def build_gantt(data: ReportDoc) -> Gantt | None:
    """One row per phase and per item that ran (rollback actions after them); bar positions
    are relative to the run's start. None when nothing has a start time yet."""
    spans = list(_spans(data))
    bounds = _bounds(data, spans)
    if bounds is None:
        return None
    t0, t1 = bounds
    scale = _Scale(t0, t1)
    rows = [_row(span, index, scale, t1) for index, span in enumerate(spans)]
    return Gantt(
        width=LABEL_WIDTH + CHART_WIDTH + 20,
        height=AXIS_HEIGHT + ROW_HEIGHT * len(rows) + 8,
        rows=rows,
        ticks=_ticks(scale),
    )


def _spans(data: ReportDoc) -> Iterable[_Span]:
    for phase in data["phases"]:
        label = f"phase {phase['id']}"
        yield _Span(label, "phase", phase["status"], phase["started_at"], phase["finished_at"])
        for item in phase["items"]:
            if item.get("started_at") is not None:
                yield _item_span(item, "item")
    rollback = data.get("rollback")
    if rollback:
        yield _Span(
            "rollback",
            "rollback-span",
            rollback.get("status") or "rolling_back",
            rollback.get("started_at"),
            rollback.get("finished_at"),
        )
        for item in rollback["actions"]:
            if item.get("started_at") is not None:
                yield _item_span(item, "rollback")
        for item in rollback["verify"]:
            if item.get("started_at") is not None:
                yield _item_span(item, "verify")


def _item_span(item: ItemView, kind: str) -> _Span:
    name = str(item.get("name") or item["key"])
    # Rollback actions are already named "undo make", "rollback 1".
    label = name if name.startswith(item["kind"]) else f"{item['kind']} {name}"
    return _Span(label, kind, item["status"], item["started_at"], item.get("finished_at"))


def _bounds(data: ReportDoc, spans: list[_Span]) -> tuple[float, float] | None:
    run = data["run"]
    pause = data["pause"]
    paused_at = pause["at"] if pause is not None else None
    starts = [s.start for s in spans if s.start is not None]
    t0 = run.get("started_at") or (min(starts) if starts else None)
    if t0 is None:
        return None
    moments = [t0, run.get("finished_at"), paused_at, *starts, *(s.end for s in spans)]
    return t0, max(m for m in moments if m is not None)


def _row(span: _Span, index: int, scale: _Scale, t_end: float) -> Row:
    bar = scale.bar(span, t_end)
    top_level = span.kind in ("phase", "rollback-span")
    limit = LABEL_CHARS if top_level else LABEL_CHARS - 2
    label = span.label if len(span.label) <= limit else span.label[: limit - 1] + "…"
    if bar is None:
        label += " (not started)"
    title = f"{span.label}: {span.status}, {_took(span)}"
    return Row(
        label, title, span.kind, 4 if top_level else 18, AXIS_HEIGHT + index * ROW_HEIGHT, bar
    )


def _took(span: _Span) -> str:
    if span.start is None:
        return "not run"
    if span.end is None:
        return "still open"
    return format_duration(span.end - span.start)


def _ticks(scale: _Scale, count: int = 5) -> list[Tick]:
    return [
        Tick(
            scale.x(scale.t0 + scale.span * i / (count - 1)),
            "+" + format_duration(scale.span * i / (count - 1)),
        )
        for i in range(count)
    ]
