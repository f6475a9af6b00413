"""The canary weight over time as one self-contained SVG, shared by the HTML report and the
dashboard so both draw the same chart.

A step chart (a weight holds until the next change) with a 0-100 % axis, a time axis
relative to the first change (the absolute start in UTC under it), a dot per change, and
vertical markers for what a reader looks for after an incident: when the fault was detected,
when the rollback started, when the canary was promoted. Built as a string here rather than in
two template languages; every text that reaches the markup goes through ``escape``, numbers
are formatted by us. No script, no external reference: the report stays one offline file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from phasegate.durations import format_duration
from phasegate.report.document import ReportDoc

WIDTH, HEIGHT = 640, 210
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 22, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
X_TICKS = 5
Y_TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class Marker:
    at: float
    label: str
    kind: str  # detected | rollback | promoted (a CSS class, never user text)


def chart_svg(doc: ReportDoc, now: float | None = None) -> Markup | None:
    """The chart of a run document's traffic history; None when the weights never changed."""
    traffic = doc.get("traffic")
    history = traffic["history"] if traffic is not None else []
    if traffic is None or not history:
        return None
    run = doc["run"]
    markers = _markers(doc)
    times = [float(h["at"]) for h in history] + [m.at for m in markers]
    start = float(history[0]["at"])
    end = run.get("finished_at") or (now if now is not None else time.time())
    end = max([float(end), *times])
    span = max(end - start, 1.0)

    def x(at: float) -> float:
        return LEFT + (at - start) / span * PLOT_W

    def y(weight: float) -> float:
        return TOP + PLOT_H - max(0.0, min(100.0, weight)) / 100.0 * PLOT_H

    parts: list[str] = [
        f'<svg class="weight-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="canary weight over time" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for weight in Y_TICKS:  # the weight axis, 0-100 %
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y(weight):.1f}" '
            f'y2="{y(weight):.1f}" stroke="#d0d7de" stroke-dasharray="2 3"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y(weight) + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#656d76">{weight}%</text>'
        )
    for i in range(X_TICKS):  # the time axis, relative to the first change
        offset = span * i / (X_TICKS - 1)
        tx = x(start + offset)
        anchor = "start" if i == 0 else ("end" if i == X_TICKS - 1 else "middle")
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H + 4}" '
            f'stroke="#656d76"/><text class="tick" x="{tx:.1f}" y="{TOP + PLOT_H + 16}" '
            f'text-anchor="{anchor}" font-size="11" fill="#656d76">'
            f"+{escape(format_duration(offset))}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + PLOT_H}" stroke="#656d76"/>'
        f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H}" '
        'stroke="#656d76"/>'
        f'<text class="axis-title" x="{LEFT + PLOT_W / 2:.1f}" y="{HEIGHT - 4}" '
        'text-anchor="middle" font-size="11" fill="#656d76">'
        f"time since the first change at {escape(_clock(start))}</text>"
        f'<text class="axis-title" x="4" y="12" font-size="11" fill="#656d76">'
        "canary weight</text>"
    )
    points: list[str] = []
    previous: float | None = None
    for entry in history:
        px, py = x(float(entry["at"])), y(float(entry.get("canary_weight") or 0))
        if previous is not None:
            points.append(f"{px:.1f},{previous:.1f}")  # a step chart: hold, then change
        points.append(f"{px:.1f},{py:.1f}")
        previous = py
    if previous is not None:
        points.append(f"{x(end):.1f},{previous:.1f}")
    parts.append(
        f'<polyline class="weight" fill="none" stroke="#0969da" stroke-width="2" '
        f'points="{" ".join(points)}"/>'
    )
    for entry in history:
        weight = entry.get("canary_weight") or 0
        title = f"{weight}% at +{format_duration(float(entry['at']) - start)}"
        if entry.get("by"):
            title += f" by {entry['by']}"
        parts.append(
            f'<circle class="change" cx="{x(float(entry["at"])):.1f}" '
            f'cy="{y(float(weight)):.1f}" r="3" fill="#0969da"><title>{escape(title)}</title>'
            "</circle>"
        )
    parts.extend(_marker_svg(m, x(m.at), index) for index, m in enumerate(markers))
    parts.append("</svg>")
    return Markup("".join(parts))


COLOURS = {"detected": "#cf222e", "rollback": "#8250df", "promoted": "#1a7f37"}


def _marker_svg(marker: Marker, mx: float, index: int) -> str:
    colour = COLOURS[marker.kind]
    # Labels alternate above the plot so two close markers do not print over each other.
    ly = TOP - 6 if index % 2 == 0 else TOP + 10
    anchor = "end" if mx > LEFT + PLOT_W * 0.7 else "start"
    dx = -4 if anchor == "end" else 4
    return (
        f'<g class="marker {marker.kind}"><line x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" '
        f'y2="{TOP + PLOT_H}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{mx + dx:.1f}" y="{ly}" text-anchor="{anchor}" font-size="11" '
        f'fill="{colour}">{escape(marker.label)}</text></g>'
    )


def _markers(doc: ReportDoc) -> list[Marker]:
    found: list[Marker] = []
    rollback = doc.get("rollback")
    if rollback is not None and (detected := rollback["detected_at"]):
        by = rollback["detected_by"]
        label = "fault detected" + (f" ({by})" if by else "")
        found.append(Marker(float(detected), label, "detected"))
    if rollback is not None and (started := rollback["started_at"]):
        found.append(Marker(float(started), "rollback", "rollback"))
    traffic = doc.get("traffic")
    promoted = traffic["promoted"] if traffic is not None else None
    if promoted and promoted.get("at"):
        found.append(Marker(float(promoted["at"]), "promoted", "promoted"))
    return sorted(found, key=lambda m: m.at)


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
