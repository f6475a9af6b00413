"""``kpi``: a gate on what a step's artifacts say, not on its exit code.

```yaml
- kpi: reports/junit.xml            # a path or a glob; several reports are summed
  expect: "tests > 0 && pass_rate >= 0.95"
- kpi: out/summary.json
  format: json
  expect: "doc.accuracy >= 0.9"
```

JUnit/xUnit XML is read with junitparser (a ``<testsuites>`` root or one ``<testsuite>``); a
case counts once, as failed when it has a ``<failure>``, an error when it has an ``<error>``,
skipped when ``<skipped>``, else passed. JSON reports give the same counts from top-level
``tests``/``failures``/``errors``/``skipped`` or from pytest-json-report's ``summary``
(``total``/``passed``/``failed``/``error``/``skipped``), and the whole document as ``doc``.

The expression sees ``tests``, ``passed``, ``failures``, ``errors``, ``skipped`` (ints),
``pass_rate`` (passed / (tests - skipped); 0.0 when nothing ran, so an empty report never
passes a pass-rate gate by accident), ``reports`` (how many files were read) and ``doc``.
A missing or unreadable report is ``failed`` (the step did not produce what it promised);
``severity: warn`` is refused: a run cannot succeed while a KPI gate fails.

As a host gate of a fleet phase on ssh hosts the reports are the host's
(``PluginContext.host_files``): the pattern is matched against the host's entries (with
``glob.glob``, as here), each report is fetched (at most ``REPORT_LIMIT`` bytes; a larger one is
an ``error`` naming the limit) and parsed here by the same readers. ``on: controller`` reads
this machine's instead. A host that cannot be reached, or a connection lost while reading, is
``error``.
"""

from __future__ import annotations

import asyncio
import glob
import io
import json
import os
import posixpath
from typing import Any, ClassVar, Literal, TypedDict

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite
from pydantic import Field, model_validator

from phasegate.checks._hostfiles import depth_of, glob_files, host_path, matching, split_magic
from phasegate.checks._support import resolve_path, time_limit
from phasegate.checks.base import CheckSpec, Observation
from phasegate.executors.ssh_files import HostFileError, HostFiles, HostLost, NotAFile
from phasegate.expr import ExprError, evaluate
from phasegate.plugin import PluginContext


class ReportError(Exception):
    pass


class KpiCheck(CheckSpec):
    kind: ClassVar[str] = "kpi"

    kpi: str = Field(
        min_length=1,
        description="report path or glob (${VAR}s expand; relative to the plan's directory)",
    )
    format: Literal["junit", "json"] | None = Field(
        None, description="junit (XML) or json; default by the file's extension"
    )
    expect: str = Field(
        "tests > 0 && failures == 0 && errors == 0",
        description="CEL over tests, passed, failures, errors, skipped, pass_rate, doc",
    )
    on: Literal["host", "controller"] | None = Field(
        None,
        description="a fleet phase's host gate only: read the host's reports (host, the "
        "default on ssh hosts) or this machine's (controller: reports a step fetched here)",
    )

    @model_validator(mode="after")
    def _never_advisory(self) -> KpiCheck:
        if self.severity != "fail":
            raise ValueError(
                "a kpi gate cannot be `severity: warn`: a run must not succeed while its KPIs "
                "fail (use an `expr` check for an advisory)"
            )
        return self

    def describe(self) -> str:
        return self.name or f"kpi {self.kpi}"

    def expectation(self) -> str:
        return self.expect

    def expressions(self) -> list[tuple[str, str]]:
        return [("expect", self.expect)]

    async def evaluate(self, ctx: PluginContext) -> Observation:
        if ctx.host_files is not None and self.on != "controller":
            pattern = host_path(ctx, self.kpi)
            try:
                async with ctx.host_files() as files:
                    facts = await host_reports(files, pattern, self.format)
            except ReportError as exc:
                return Observation("failed", {"path": pattern}, str(exc))
            except (HostLost, HostFileError) as exc:
                return Observation("error", {"path": pattern}, str(exc))
            return self._judge(ctx, facts)
        pattern = resolve_path(ctx, self.kpi)
        try:
            facts = await asyncio.wait_for(
                asyncio.to_thread(read_reports, pattern, self.format), time_limit(self, ctx)
            )
        except TimeoutError:
            return Observation("error", {"path": pattern}, f"{pattern}: not read in time")
        except ReportError as exc:
            return Observation("failed", {"path": pattern}, str(exc))
        return self._judge(ctx, facts)

    def _judge(self, ctx: PluginContext, facts: KpiFacts) -> Observation:
        try:
            value = evaluate(self.expect, facts)
        except ExprError as exc:
            return Observation("error", _summary(facts), ctx.masker.text(exc.message))
        observed = _summary(facts)
        if value is True:
            return Observation("passed", observed, f"{self.expect}: {_words(facts)}")
        if value is False:
            return Observation("failed", observed, f"{self.expect} is false: {_words(facts)}")
        return Observation("error", observed, f"{self.expect} gave {value!r}, not a boolean")


class KpiSummary(TypedDict):
    """Test reports' totals, summed over every report the pattern matched."""

    tests: int
    passed: int
    failures: int
    errors: int
    skipped: int
    pass_rate: float  # passed / (tests - skipped); 0 when nothing ran
    reports: int


class KpiFacts(KpiSummary):
    """What ``expect`` sees: the totals and ``doc``, the JSON report (a list of them when
    the pattern matched several; None for JUnit XML)."""

    doc: Any


def _summary(facts: KpiFacts) -> KpiSummary:
    return {
        "tests": facts["tests"],
        "passed": facts["passed"],
        "failures": facts["failures"],
        "errors": facts["errors"],
        "skipped": facts["skipped"],
        "pass_rate": facts["pass_rate"],
        "reports": facts["reports"],
    }


def _words(facts: KpiFacts) -> str:
    return (
        f"{facts['passed']} of {facts['tests']} passed, {facts['failures']} failed, "
        f"{facts['errors']} errors, {facts['skipped']} skipped "
        f"(pass_rate {facts['pass_rate']:.4g}, {facts['reports']} report(s))"
    )


def read_reports(pattern: str, fmt: str | None) -> KpiFacts:
    paths = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
    paths = [p for p in paths if os.path.isfile(p)] if glob.has_magic(pattern) else paths
    if not paths:
        raise ReportError(f"no report matches {pattern}")
    return summarize([(path, None) for path in paths], fmt)


async def host_reports(files: HostFiles, pattern: str, fmt: str | None) -> KpiFacts:
    """``read_reports`` on a host: the pattern matched against the host's entries, each
    report fetched (capped) and read here."""
    paths = [pattern]
    if glob.has_magic(pattern):
        base, rest = split_magic(pattern)
        try:
            entries = await files.listing(base, depth_of(rest))
        except HostFileError as exc:
            if "not a directory" not in str(exc):
                raise
            entries = []
        found = sorted(matching(entries, rest, glob_files))
        paths = [p if base == "." else posixpath.join(base, p) for p in found]
        if not paths:
            raise ReportError(f"no report matches {pattern} on {files.name}")
    reports: list[tuple[str, bytes | None]] = []
    for path in paths:
        try:
            reports.append((path, await files.fetch(path)))
        except FileNotFoundError:
            raise ReportError(f"report {path} does not exist on {files.name}") from None
        except NotAFile as exc:  # a directory: as locally, no report there
            raise ReportError(f"report {exc}") from None
    return await asyncio.to_thread(summarize, reports, fmt)


def summarize(reports: list[tuple[str, bytes | None]], fmt: str | None) -> KpiFacts:
    """The facts of several reports: (path, its content, or None to read the path here)."""
    totals = {"tests": 0, "passed": 0, "failures": 0, "errors": 0, "skipped": 0}
    docs: list[Any] = []
    paths = [path for path, _ in reports]
    for path, data in reports:
        kind = fmt or ("json" if path.endswith(".json") else "junit")
        counts, doc = read_json(path, data) if kind == "json" else (read_junit(path, data), None)
        for key in totals:
            totals[key] += counts[key]
        docs.append(doc)
    ran = totals["tests"] - totals["skipped"]
    return {
        "tests": totals["tests"],
        "passed": totals["passed"],
        "failures": totals["failures"],
        "errors": totals["errors"],
        "skipped": totals["skipped"],
        "pass_rate": totals["passed"] / ran if ran > 0 else 0.0,
        "reports": len(paths),
        "doc": docs[0] if len(docs) == 1 else docs,
    }


def read_junit(path: str, data: bytes | None = None) -> dict[str, int]:
    """A JUnit/xUnit report's counts: the file at ``path``, or ``data`` read from it."""
    try:
        xml = JUnitXml.fromfile(path if data is None else io.BytesIO(data))
    except FileNotFoundError:
        raise ReportError(f"report {path} does not exist") from None
    except Exception as exc:  # junitparser raises lxml/ElementTree errors of several kinds
        raise ReportError(f"report {path} is not JUnit/xUnit XML: {exc}") from None
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    counts = {"tests": 0, "passed": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for case in suite:
            counts["tests"] += 1
            results = list(case.result)
            if any(isinstance(r, Error) for r in results):
                counts["errors"] += 1
            elif any(isinstance(r, Failure) for r in results):
                counts["failures"] += 1
            elif any(isinstance(r, Skipped) for r in results):
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
    return counts


def read_json(path: str, data: bytes | None = None) -> tuple[dict[str, int], Any]:
    try:
        if data is None:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        else:
            doc = json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ReportError(f"report {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"report {path} is not readable JSON: {exc}") from None
    source = doc if isinstance(doc, dict) else {}
    summary = source.get("summary") if isinstance(source.get("summary"), dict) else None
    if summary is not None and "tests" not in source:
        tests = _int(summary.get("total"))
        failures, errors = _int(summary.get("failed")), _int(summary.get("error"))
        skipped = _int(summary.get("skipped"))
        passed = _int(summary.get("passed"), tests - failures - errors - skipped)
    else:
        tests = _int(source.get("tests"))
        failures, errors = _int(source.get("failures")), _int(source.get("errors"))
        skipped = _int(source.get("skipped"))
        passed = _int(source.get("passed"), tests - failures - errors - skipped)
    counts = {
        "tests": tests,
        "passed": max(passed, 0),
        "failures": failures,
        "errors": errors,
        "skipped": skipped,
    }
    return counts, doc


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)
