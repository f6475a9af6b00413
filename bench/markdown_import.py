"""Markdown import at scale (issue 11, performance): time and peak memory against a baseline.

    uv run python bench/markdown_import.py                 # the three measurements
    uv run python bench/markdown_import.py --profile 2mb   # and cProfile's top entries
    uv run python bench/markdown_import.py --reps 10 --size-mb 2

Measures ``import_markdown_file`` (the function ``phasegate import``, ``validate`` and ``run``
use: decode, parse, map, emit, validate) on

* the largest corpus document (goal ≤ 300 ms), median of ``--reps`` after one warm-up;
* a generated 2 MB document: every corpus document concatenated, in name order, as often as
  it takes to pass 2 MB (goal ≤ 3 s), median of 3 after one warm-up;
* how the time grows with size (``--scaling``): the import of a 0.5 MB and a 2 MB document
  generated the same way, as time per MB; the 2 MB document's per-MB time over the 0.5 MB
  one's is ~1 when the import is linear in the document and ~4 when it is quadratic (a ratio,
  so a loaded machine does not make it fail where a wall-clock threshold would);
* the peak RSS of a fresh interpreter that imports the 2 MB document (goal ≤ 200 MB), read
  from ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` in that subprocess.

Each beside a baseline: markdown-it-py parsing the same text alone (the importer's own parser
configuration), so the ratio says how much the importer adds over reading the Markdown at all;
the baseline's peak RSS is measured the same way, in its own subprocess.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus")

_CHILD = """
import json, resource, sys, time
from pathlib import Path
path = Path(sys.argv[1])
start = time.perf_counter()
if sys.argv[2] == "import":
    from phasegate.markdown import import_markdown_file
    import_markdown_file(path)
else:
    from phasegate.markdown.parse import _MD, clean_text
    _MD.parse(clean_text(path.read_text(encoding="utf-8")))
elapsed = time.perf_counter() - start
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": elapsed}))
"""


def corpus_documents() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.md") if p.name != "README.md")


def generated(directory: Path, size_mb: float) -> Path:
    """Corpus content, concatenated until it passes ``size_mb``: real runbook Markdown at a
    size no one document reaches (headings repeat, which the importer must cope with)."""
    parts: list[str] = []
    total = 0
    docs = corpus_documents()
    while total < size_mb * 1024 * 1024:
        for path in docs:
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(text)
            total += len(text.encode())
            if total >= size_mb * 1024 * 1024:
                break
    out = directory / f"generated-{size_mb:g}mb.md"
    out.write_text("\n\n".join(parts), encoding="utf-8")
    return out


def timed(fn: Callable[[], object], reps: int) -> tuple[float, list[float]]:
    fn()  # warm-up: lazily imported modules, caches
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def child(path: Path, what: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), what],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def scaling(work: Path, import_file: Callable[[Path], object]) -> int:
    """Time per MB at 0.5 MB and 2 MB (median of 3 each): linear import keeps it flat."""
    per_mb = {}
    for size in (0.5, 2.0):
        path = generated(work, size)
        seconds, _ = timed(lambda path=path: import_file(path), 3)
        per_mb[size] = seconds / (path.stat().st_size / 1024 / 1024)
    growth = per_mb[2.0] / per_mb[0.5]
    print("| document | import time per MB |")
    print("|---|---:|")
    for size, value in per_mb.items():
        print(f"| generated {size:g} MB | {value * 1000:,.0f} ms |")
    print(
        f"growth of the per-MB time from 0.5 MB to 2 MB: {growth:.2f}× (linear ≈ 1, quadratic ≈ 4)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--size-mb", type=float, default=2.0)
    parser.add_argument("--profile", choices=["largest", "2mb"], help="cProfile one import")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--scaling", action="store_true", help="only the growth with size")
    args = parser.parse_args()

    from phasegate.markdown import import_markdown_file as _import
    from phasegate.markdown import memo
    from phasegate.markdown.parse import _MD, clean_text

    def import_markdown_file(path: Path) -> object:
        """A cold import: every content cache (memo.py: shell parses, `mutates`, the text
        rules; a warm-up would fill them) emptied first, so a repetition costs what a fresh
        `phasegate import` process pays."""
        memo.clear()
        return _import(path)

    largest = max(corpus_documents(), key=lambda p: p.stat().st_size)
    work = Path(tempfile.mkdtemp(prefix="phasegate-mdbench-"))
    if args.scaling:
        return scaling(work, import_markdown_file)
    big = generated(work, args.size_mb)
    # Peak RSS first, while this process is small: Linux carries the parent's high-water mark
    # into a forked child's ru_maxrss across exec, so measured later both children would
    # report this process's peak.
    rss_import = child(big, "import")
    rss_base = child(big, "parse")

    def baseline(path: Path) -> Callable[[], object]:
        text = path.read_text(encoding="utf-8")
        return lambda: _MD.parse(clean_text(text))

    rows = []
    for label, path, reps, goal in (
        (f"largest corpus document ({largest.name}, ", largest, args.reps, 0.3),
        (f"generated document ({big.name}, ", big, 3, 3.0),
    ):
        size = path.stat().st_size / 1024
        imp, _ = timed(lambda path=path: import_markdown_file(path), reps)
        base, _ = timed(baseline(path), reps)
        rows.append(
            f"| {label}{size:,.0f} KB), median of {reps} | {imp * 1000:,.0f} ms | "
            f"{base * 1000:,.0f} ms | {imp / base:.1f}× | ≤ {goal * 1000:,.0f} ms | "
            f"{'yes' if imp <= goal else 'NO'} |"
        )
    rows.append(
        f"| peak RSS, fresh interpreter importing the generated document | "
        f"{rss_import['rss_mb']:.1f} MB | {rss_base['rss_mb']:.1f} MB | "
        f"{rss_import['rss_mb'] / rss_base['rss_mb']:.1f}× | ≤ 200 MB | "
        f"{'yes' if rss_import['rss_mb'] <= 200 else 'NO'} |"
    )
    print("| measurement | import | markdown-it-py parse alone | ratio | goal | met? |")
    print("|---|---:|---:|---:|---|---|")
    print("\n".join(rows))
    print(
        f"(the RSS subprocesses took {rss_import['seconds']:.2f} s and "
        f"{rss_base['seconds']:.2f} s, cold)"
    )
    if args.profile:
        target = largest if args.profile == "largest" else big
        # bench/profile.py shadows the standard library's `profile`, which cProfile imports
        here = str(Path(__file__).resolve().parent)
        sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]
        sys.modules.pop("profile", None)
        profiler = importlib.import_module("cProfile").Profile()
        profiler.runcall(import_markdown_file, target)
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
