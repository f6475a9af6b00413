"""Links between a program's report and its children's in written files (report/bundle.py):
every link in a written file resolves to a file next to it; `--with-children` writes the
children's reports as RUN_ID.EXT, linked both ways; without it a link appears only to a
report already there; stdout carries run ids without links (where it lands is unknown)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from tests.conftest import CLI
from tests.programs.builders import program


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append({k: v or "" for k, v in attrs})


def _html_links(path: Path) -> list[dict[str, str]]:
    parser = _Anchors()
    parser.feed(path.read_text())
    return [a for a in parser.anchors if "href" in a]


def _md_links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", path.read_text())


def _resolves(source: Path, href: str) -> bool:
    if href.startswith("#"):
        return True  # an anchor in the same file
    return (source.parent / unquote(href)).is_file()


def test_written_reports_link_each_other_and_every_link_resolves(cli: CLI) -> None:
    plan = program(cli.cwd, children=2)
    assert cli("run", str(plan)).returncode == 0
    parent = next(r for r in cli.json("history") if r["plan_name"] == "program")["id"]
    children = [c["run"] for c in cli.status(parent)["program"]["children"]]
    assert len(children) == 2

    # --with-children: the program's report under its -o name, each child's as RUN_ID.html.
    bundle = cli.cwd / "ticket"
    bundle.mkdir()
    done = cli("report", parent, "--format", "html", "-o", str(bundle / "program.html"),
               "--with-children")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        ["program.html", *(f"{c}.html" for c in children)]
    )
    top = _html_links(bundle / "program.html")
    assert {a["data-child-run"]: a["href"] for a in top if "data-child-run" in a} == {
        c: f"{c}.html" for c in children
    }
    for child in children:
        page = bundle / f"{child}.html"
        assert "<h1>" in page.read_text() and child in page.read_text()
        ups = {a["data-parent-run"]: a["href"] for a in _html_links(page) if "data-parent-run" in a}
        assert ups == {parent: "program.html"}
    for page in bundle.iterdir():
        dead = [a["href"] for a in _html_links(page) if not _resolves(page, a["href"])]
        assert dead == [], page.name

    # Markdown: the same links as [id](file).
    notes = cli.cwd / "notes"
    notes.mkdir()
    assert cli("report", parent, "-o", str(notes / "p.md"), "--with-children").returncode == 0
    assert sorted(_md_links(notes / "p.md")) == sorted(f"{c}.md" for c in children)
    assert _md_links(notes / f"{children[0]}.md") == ["p.md"]
    for page in notes.iterdir():
        assert all(_resolves(page, href) for href in _md_links(page)), page.name

    # Without --with-children: a link only to a report already there, none dead.
    alone = cli.cwd / "alone"
    alone.mkdir()
    assert cli("report", parent, "--format", "html", "-o", str(alone / "p.html")).returncode == 0
    assert _html_links(alone / "p.html") == []
    assert all(c in (alone / "p.html").read_text() for c in children)  # the ids, as text
    first = alone / f"{children[0]}.html"
    assert cli("report", children[0], "--format", "html", "-o", str(first)).returncode == 0
    assert _html_links(first) == []  # its parent's report is not there under its run id
    assert cli("report", parent, "--format", "html", "-o", str(alone / "p.html")).returncode == 0
    assert [a["href"] for a in _html_links(alone / "p.html")] == [first.name]

    # stdout: run ids, no links (where the text lands is unknown); --with-children needs -o.
    out = cli("report", parent, "--format", "html")
    assert out.returncode == 0 and "data-child-run" in out.stdout and "<a href" not in out.stdout
    refused = cli("report", parent, "--with-children")
    assert refused.returncode == 2 and "needs -o FILE" in refused.stderr
    assert "Traceback" not in refused.stderr
