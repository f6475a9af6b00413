"""Real runs for the report tests: plans written to a temp dir, executed by the real CLI in a
subprocess, reports rendered by the real CLI with ``-o``, and helpers to read the reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests import cli_forks

SECRET = "s3cr3t-value"


@dataclass
class Reports:
    """One run and its report in every format."""

    exit_code: int
    md: str
    html: str
    json_text: str
    doc: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.doc = json.loads(self.json_text)

    def texts(self) -> dict[str, str]:
        return {"md": self.md, "html": self.html, "json": self.json_text}

    def md_section(self, heading: str) -> str:
        """The Markdown between ``## heading`` and the next ``## `` heading."""
        start = self.md.index(f"\n## {heading}\n")
        end = self.md.find("\n## ", start + 1)
        return self.md[start : end if end != -1 else None]

    def item(self, key: str) -> dict[str, Any]:
        """The document's entry for the item with this key."""
        phases = self.doc["phases"]
        return next(i for p in phases for i in p["items"] if i["key"] == key)

    def md_row(self, key: str) -> str:
        """The Markdown table row of the item with this key."""
        return next(
            line for line in self.md.splitlines() if line.startswith("|") and f"`{key}`" in line
        )

    def gantt_bars(self) -> Counter[str]:
        """How many timeline bars of each kind (phase, item, rollback, verify, rollback-span)."""
        svg = re.search(r"<svg class=\"gantt\".*?</svg>", self.html, re.S)
        assert svg is not None, "the HTML report has no timeline"
        return Counter(re.findall(r'<rect class="bar bar-([a-z-]+) ', svg.group(0)))

    def html_tags(self) -> list[tuple[str, list[tuple[str, str | None]]]]:
        """Every start tag of the HTML report, after checking that its elements nest."""
        parser = _TagCollector()
        parser.feed(self.html)
        parser.close()
        assert parser.misnested == [], parser.misnested
        assert parser.open == [], parser.open
        return parser.tags


class _TagCollector(HTMLParser):
    """Start tags with their attributes, and every end tag that does not close the innermost
    open element (HTML's void elements never close)."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.open: list[str] = []
        self.misnested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.misnested.append(f"</{tag}> at line {self.getpos()[0]}")


class Project:
    """A plan directory and a state directory, driven only through the CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"
        root.mkdir(parents=True, exist_ok=True)

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return cli_forks.phasegate(
            ["--state-dir", str(self.state), *args],
            cwd=self.root,
            env={**os.environ, **(env or {})},
        )

    def run(self, plan_text: str, *, env: dict[str, str] | None = None) -> int:
        """Run the plan; return the CLI's exit code (a documented run outcome, never 2/70)."""
        plan = self.root / "plan.yaml"
        plan.write_text(textwrap.dedent(plan_text), encoding="utf-8")
        result = self.cli("run", "--no-output", str(plan), env=env)
        assert result.returncode in (0, 1, 3, 4), result.stdout + result.stderr
        return result.returncode

    def reports(self, exit_code: int, run_ref: str = "last") -> Reports:
        """Render RUN in every format through ``phasegate report -o``."""
        texts = {}
        for fmt in ("md", "html", "json"):
            out = self.root / f"report.{fmt}"
            result = self.cli("report", run_ref, "--format", fmt, "-o", str(out))
            assert result.returncode == 0, result.stderr
            texts[fmt] = out.read_text(encoding="utf-8")
        return Reports(exit_code, texts["md"], texts["html"], texts["json"])
