"""Mermaid ``graph`` / ``flowchart`` text -> edges and node labels (never raises)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass


@dataclass
class Graph:
    edges: list[tuple[str, str, int]]  # (from node, to node, line offset in the fence)
    labels: dict[str, str]


_NODE_ID = re.compile(r"[A-Za-z0-9_\u0080-\uffff]+(?:[.-](?![-.>=])[A-Za-z0-9_\u0080-\uffff]+)*")
_OPEN_CLOSE = {"[": "]", "(": ")", "{": "}", ">": "]"}
# `-->`, `--->`, `==>`, `-.->`, `-- text -->`, `== text ==>`, `---`, `--o`, `--x`, `<-->`, `~~~`
_LINK_OP = re.compile(
    r"\s*(?P<op><?(?:--|==)\s*[^-=>|\[\](){}\n]*?\s*(?:-{2,}|={2,})>"
    r"|<?(?:-{2,}|={2,}|-\.+-|~{3,})(?:>|o\b|x\b)?)"
    r"\s*(?:\|(?P<label>[^|]*)\|)?\s*"
)
_SKIP_LINE = re.compile(
    r"^\s*(?:%%|subgraph\b|end\b|classDef\b|class\b|style\b|linkStyle\b|click\b|direction\b)",
    re.I,
)


_HEADER = re.compile(r"^\s*(?:graph|flowchart)\b(?:\s+(?:TB|TD|BT|RL|LR))?", re.I)


def parse_mermaid(text: str) -> Graph:
    """Edges and node labels of a ``graph`` / ``flowchart``; anything else gives none."""
    graph = Graph([], {})
    lines = text.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("%%")), "")
    if not re.match(r"^(?:graph|flowchart)\b", first, re.I):
        return graph
    header_seen = False
    for offset, raw in enumerate(lines):
        body = raw
        if not header_seen:
            if not raw.strip() or raw.strip().startswith("%%"):
                continue
            header_seen = True
            body = _HEADER.sub("", raw, count=1)
        for statement in body.split(";"):
            if statement.strip() and not _SKIP_LINE.match(statement):
                _statement(statement, offset, graph)
    return graph


def _statement(text: str, offset: int, graph: Graph) -> None:
    pos = 0
    groups: list[list[str]] = []
    arrows: list[bool] = []
    while pos < len(text):
        group, pos = _node_group(text, pos, graph)
        if not group:
            return
        groups.append(group)
        match = _LINK_OP.match(text, pos)
        if match is None:
            break
        op = match.group("op").strip()
        # only an arrow orders work: `---`, `~~~`, `--o`, `--x` link without an order, and
        # `<-->` points both ways
        arrows.append(op.endswith(">") and not op.startswith("<"))
        pos = match.end()
    for (left, right), arrow in zip(itertools.pairwise(groups), arrows, strict=False):
        if arrow:
            graph.edges.extend((a, b, offset) for a in left for b in right)


def _node_group(text: str, pos: int, graph: Graph) -> tuple[list[str], int]:
    nodes: list[str] = []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        match = _NODE_ID.match(text, pos)
        if match is None:
            return nodes, pos
        node = match.group(0)
        pos = match.end()
        if pos < len(text) and text[pos] in _OPEN_CLOSE:
            label, pos = _shape(text, pos)
            if label:
                graph.labels.setdefault(node, label)
        if text.startswith(":::", pos):
            class_name = _NODE_ID.match(text, pos + 3)
            pos = class_name.end() if class_name else pos + 3
        nodes.append(node)
        rest = text[pos:].lstrip(" \t")
        if not rest.startswith("&"):
            return nodes, pos
        pos = len(text) - len(rest) + 1


def _shape(text: str, pos: int) -> tuple[str, int]:
    """``[label]``, ``(label)``, ``((label))``, ``{label}``, ``>label]``, ``["quoted"]``."""
    opening = text[pos]
    if opening == ">":
        end = text.find("]", pos)
        end = len(text) if end < 0 else end
        return _clean_label(text[pos + 1 : end]), min(end + 1, len(text))
    depth = 0
    quoted = False
    for i in range(pos, len(text)):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
            if depth <= 0:
                return _clean_label(text[pos : i + 1]), i + 1
    return _clean_label(text[pos:]), len(text)


def _clean_label(raw: str) -> str:
    label = raw.strip("[](){}/\\> \t")
    label = re.sub(r"<[^>]*>", " ", label).strip().strip('"').strip()
    return " ".join(label.split())
