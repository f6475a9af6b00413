"""The Markdown import workload: ``import_markdown_file`` (parse, map, emit, validate) over
every shared seed and corpus document.

Each document is imported once to warm up (lazily imported modules), then ``reps`` times,
each with the content caches emptied (``markdown/memo.py``: a fresh process starts without
them), in rounds whose order rotates, so a burst of load from another tenant spreads over all
documents. Times are in-process wall times (``time.perf_counter``); the interpreter and
import cost of a real ``phasegate import`` is measured separately, as a subprocess.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """As ``tests/shared.py`` finds it: ``$PHASEGATE_SHARED_DIR``, ``../shared`` beside the
    checkout, ``/work/shared``; the first that has ``seeds/``."""
    for candidate in (
        os.environ.get("PHASEGATE_SHARED_DIR"),
        ROOT.parent / "shared",
        "/work/shared",
    ):
        if candidate and (Path(candidate) / "seeds").is_dir():
            return Path(candidate)
    return None


def documents(shared: Path) -> list[Path]:
    """The seeds (``.txt``) and the corpus (``.md``), as the corpus tests import them."""
    return sorted([*shared.glob("seeds/*"), *shared.glob("corpus/*.md")])


def synthetic(paths: list[Path], directory: Path, target_kb: int = 70) -> tuple[Path, int] | None:
    """The issue's goal names a ~70 KB document; the corpus's largest is smaller. This one is
    the largest corpus documents concatenated until it reaches ``target_kb``. Returns its path
    and how many documents went into it (None when they do not add up to the target)."""
    corpus = sorted((p for p in paths if p.suffix == ".md"), key=lambda p: -p.stat().st_size)
    parts: list[str] = []
    for path in corpus:
        parts.append(path.read_text(encoding="utf-8", errors="replace"))
        if sum(len(t.encode()) for t in parts) >= target_kb * 1024:
            out = directory / f"synthetic-{target_kb}kb.md"
            out.write_text("\n\n".join(parts), encoding="utf-8")
            return out, len(parts)
    return None


@dataclass
class DocumentTimes:
    path: Path
    size: int
    synthetic: bool = False
    samples: list[float] = field(default_factory=list)
    refused: str | None = None  # the importer's refusal ("nothing to run"): timed all the same

    @property
    def name(self) -> str:
        return self.path.name if self.synthetic else f"{self.path.parent.name}/{self.path.name}"

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]


def measure(paths: list[Path], reps: int, extra: Path | None = None) -> list[DocumentTimes]:
    """Median and p95 of ``reps`` in-process imports of each document (and of the synthetic
    ``extra``), after one warm-up."""
    from phasegate.markdown import memo
    from phasegate.markdown.emit import import_markdown_file

    results = [DocumentTimes(p, p.stat().st_size) for p in paths]
    if extra is not None:
        results.append(DocumentTimes(extra, extra.stat().st_size, synthetic=True))
    for doc in results:
        doc.refused = _import(import_markdown_file, doc.path)  # warm-up, not measured
    for rep in range(reps):
        shift = rep % len(results)
        for doc in results[shift:] + results[:shift]:
            memo.clear()  # cold content caches, as in a fresh `phasegate import`
            started = time.perf_counter()
            _import(import_markdown_file, doc.path)
            doc.samples.append(time.perf_counter() - started)
    return results


def _import(import_markdown_file: Callable[[Path], object], path: Path) -> str | None:
    """One import; a document the importer refuses (a policy text with nothing to run) is
    an outcome too, reached by the same work: its reason, first line."""
    from phasegate.markdown.errors import MarkdownImportError

    try:
        import_markdown_file(path)
    except MarkdownImportError as exc:
        return str(exc).splitlines()[0]
    return None


def largest(results: list[DocumentTimes]) -> DocumentTimes:
    """The largest shared document (not the synthetic one)."""
    return max((d for d in results if not d.synthetic), key=lambda d: d.size)


def table(results: list[DocumentTimes]) -> str:
    """The per-document table, as Markdown (it goes into docs/performance.md as is)."""
    lines = ["| document | size | median | p95 |", "|---|---:|---:|---:|"]
    for doc in sorted(results, key=lambda d: d.size, reverse=True):
        name = f"{doc.name} (concatenated corpus)" if doc.synthetic else doc.name
        if doc.refused:
            name += f" (refused: {doc.refused.split(': ')[1][:40]})"
        lines.append(
            f"| `{name}` | {doc.size / 1024:.1f} KB | {doc.median * 1000:.1f} ms "
            f"| {doc.p95 * 1000:.1f} ms |"
        )
    return "\n".join(lines)
