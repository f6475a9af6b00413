"""The phase DAG as a small SVG map: a box per phase, one column right of the latest phase it
needs, and an arrow for every ``needs`` edge, so the order a plan runs in is visible at once
(the cards below hold the detail). Server-rendered: no layout library, no script; the boxes
have fixed sizes, so the edges are exact. Names are escaped; classes come from statuses
through ``status_class``, never from user text."""

from __future__ import annotations

import re
from typing import Any, TypedDict, TypeVar

from markupsafe import Markup, escape

NODE_W, NODE_H = 190, 40
GAP_X, GAP_Y, PAD = 56, 12, 6
NAME_CHARS = 26


class DagNode(TypedDict):
    """What the map reads of a phase (the run page's phases have more)."""

    id: str
    name: str | None
    needs: list[str]
    status: str


Node = TypeVar("Node", bound=DagNode)


def _needs(phase: DagNode) -> list[str]:
    return phase.get("needs", [])  # a phase written without `needs` (tests) needs none


def waves(phases: list[Node]) -> list[list[Node]]:
    """Phases in columns: each phase one column right of the latest phase it needs."""
    column: dict[str, int] = {}
    for phase in phases:  # the run document lists phases in plan order; needs come first
        needs = [column[n] for n in _needs(phase) if n in column]
        column[phase["id"]] = (max(needs) + 1) if needs else 0
    out: list[list[Node]] = [[] for _ in range(max(column.values(), default=-1) + 1)]
    for phase in phases:
        out[column[phase["id"]]].append(phase)
    return out


def status_class(status: Any) -> str:
    return "st-" + re.sub(r"[^a-z0-9_]", "", str(status or "none").lower())


def dag_svg(columns: list[list[Node]]) -> Markup | None:
    if not columns:
        return None
    where: dict[str, tuple[float, float]] = {}
    for c, column in enumerate(columns):
        for r, phase in enumerate(column):
            where[phase["id"]] = (PAD + c * (NODE_W + GAP_X), PAD + r * (NODE_H + GAP_Y))
    width = PAD * 2 + len(columns) * NODE_W + (len(columns) - 1) * GAP_X
    height = PAD * 2 + max(len(c) for c in columns) * (NODE_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg class="dag-map" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="phase order" '
        'xmlns="http://www.w3.org/2000/svg"><defs><marker id="arrow" viewBox="0 0 10 10" '
        'refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#6e7781"/></marker></defs>'
    ]
    for column in columns:
        for phase in column:
            x, y = where[phase["id"]]
            for need in _needs(phase):
                if need not in where:
                    continue
                nx, ny = where[need]
                x1, y1, x2, y2 = nx + NODE_W, ny + NODE_H / 2, x, y + NODE_H / 2
                mid = (x1 + x2) / 2
                parts.append(
                    f'<path class="edge" data-from="{escape(need)}" data-to="{escape(phase["id"])}"'
                    f' d="M {x1:.1f} {y1:.1f} C {mid:.1f} {y1:.1f}, {mid:.1f} {y2:.1f}, '
                    f'{x2 - 1:.1f} {y2:.1f}" fill="none" stroke="#6e7781" stroke-width="1.5" '
                    'marker-end="url(#arrow)"/>'
                )
    for column in columns:
        for phase in column:
            x, y = where[phase["id"]]
            name = str(phase.get("name") or phase["id"])
            short = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
            status = str(phase.get("status") or "pending")
            parts.append(
                f'<a href="#phase-{escape(phase["id"])}"><g class="dag-node '
                f'{status_class(status)}" data-node="{escape(phase["id"])}">'
                f"<title>{escape(name)}: {escape(status)}</title>"
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
                f'<text x="{x + 8:.1f}" y="{y + 16:.1f}" class="node-name">{escape(short)}</text>'
                f'<text x="{x + 8:.1f}" y="{y + 32:.1f}" class="node-status">'
                f"{escape(status.replace('_', ' '))}</text></g></a>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
