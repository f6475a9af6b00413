"""The small pure pieces of the renderer: escaping, truncation, time and budget formatting."""

from __future__ import annotations

import json

import jinja2
import pytest

from phasegate.report.render import (
    OBSERVED_LIMIT,
    budget_note,
    compact_json,
    iso_utc,
    md_code,
    md_text,
    render,
    status_class,
)


def test_md_text_cannot_break_a_table_or_inject_markup() -> None:
    assert md_text("a | b\nc\r\nd") == "a \\| b<br>c<br>d"
    assert md_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_text("C:\\path") == "C:\\\\path"
    assert md_text(None) == "-"
    assert md_text("") == "-"
    assert md_text(0) == "0"


def test_md_code_survives_backticks_pipes_and_newlines() -> None:
    assert md_code("echo hi") == "`echo hi`"
    assert md_code("a | b") == "`a \\| b`"
    assert md_code("one\ntwo") == "`one ⏎ two`"
    # CommonMark strips one space on each side when both are present.
    assert md_code("echo `date`") == "`` echo `date` ``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code(None) == "-"


def test_observed_json_is_truncated() -> None:
    small = {"exit_code": 1, "stdout": ""}
    assert compact_json(small) == json.dumps(small)
    big = compact_json({"stdout": "x" * 1000})
    assert len(big) == OBSERVED_LIMIT
    assert big.endswith("…")
    assert compact_json(None) == ""


def test_timestamps_are_iso_utc() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    assert iso_utc(None) == "-"


def test_budget_note_flags_overrun() -> None:
    assert budget_note(0.042, 300.0) == "42ms of 5m00s budget"
    assert budget_note(0.33, 0.1) == "330ms of 100ms budget — OVERRUN"
    assert budget_note(0.05, 0.1, overrun=True).endswith("OVERRUN")
    assert budget_note(2.0, None) == "2.0s (no budget)"


def test_status_class_is_always_a_plain_class_name() -> None:
    assert status_class("rolled_back") == "st-rolled_back"
    assert status_class('x" onmouseover="y') == "st-xonmouseovery"
    assert status_class(None) == "st-none"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render({}, "pdf")


def test_templates_ship_inside_the_package() -> None:
    loader = jinja2.PackageLoader("phasegate.report", "templates")
    assert {"report.md.j2", "report.html.j2", "items.html.j2", "gantt.svg.j2", "report.css"} <= set(
        loader.list_templates()
    )
