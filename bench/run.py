"""phasegate's performance suite: ratios measured side by side, in one run, on this machine.

    uv run python bench/run.py              # the full suite (5-8 min on 2 shared cores)
    uv run python bench/run.py --quick      # 1 repetition, smaller Ansible run, lower caps
    uv run python bench/run.py --json bench/results/latest.json

What it measures (the goals come from the performance issue; they are reported, never
asserted, and the exit code is 0 whatever they show):

1. Engine overhead: a 500-step plan (per step: ``/usr/bin/true``, then a ``command`` gate
   ``/usr/bin/test -f FILE``) against a bash script making the same 1,000 spawns. Plan
   shapes: 500 chained phases with argv steps, the same with shell-string steps, one phase
   with 500 steps and 500 gates; plus a 1-step run (the fixed cost) and the bare cost of
   500 durable SQLite commits (the journal's floor). Goal: phasegate <= 1.5x bash, with the
   durable journal on (it always is: each step's start is committed before it spawns).
2. The same work as an ``ansible-playbook`` play (local connection). Goal: phasegate >= 20x
   faster (see ``versus_ansible.py`` for how a too-slow Ansible run is scaled).
3. ``phasegate --version``: median of 20, beside ``python -c pass``. Goal <= 150 ms.
4. ``phasegate validate`` of a 5,000-step plan: median of 5. Goal <= 1 s.
5. Peak RSS of ``phasegate run`` of that 5,000-step plan. Goal <= 100 MB. The run has a time
   cap; if it hits it, the peak so far is reported with how far the run got.
6. Markdown import (``imports.py``): ``import_markdown_file``, validation included, of every
   shared seed and corpus document, in-process, median and p95 of ``--import-reps``; and a
   first ``phasegate import`` subprocess of the largest one (interpreter and imports
   included). Goal: the largest corpus document imports in <= 300 ms.

``--only SECTION`` (repeatable: startup, engine, big, import, routers, detection, server) runs
part of the suite; ``routers`` is the traffic routers' weight-change latency (``routers.py``);
``detection`` is a bad canary's detection-to-rollback latency through the real CLI, nginx and
haproxy labs side by side (``detection.py``, ~5 min; quick ~1.5 min); ``server`` is
``phasegate serve``'s API latency under 50 clients and the engine's per-step time with 100
live dashboard watchers (``server.py``, ~3 min; quick ~1 min).

Repetitions are interleaved (each round runs every case once, in an order rotated from round
to round) so that load from other tenants of a shared machine spreads over all cases instead
of landing on one; each figure is the median of its repetitions. Every phasegate run gets a
fresh ``--state-dir``; output goes to a file, as under CI.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import detection
import imports
import routers
import workloads
from measure import (
    BenchError,
    Samples,
    Tools,
    child_env,
    finished_items,
    journal_floor,
    log,
    machine,
    peak_rss,
    table,
    timed,
)
from versus_ansible import AnsibleComparison

import server

BIG_STEPS = 5000
GOAL_ENGINE_RATIO = 1.5
GOAL_ANSIBLE_SPEEDUP = 20.0
GOAL_VERSION_MS = 150.0
GOAL_VALIDATE_S = 1.0
GOAL_RSS_MB = 100.0
GOAL_IMPORT_MS = 300.0
SECTIONS = ("startup", "engine", "big", "import", "routers", "detection", "server")
INFO = "(information)"


class Suite:
    def __init__(self, args: argparse.Namespace, tools: Tools, work: Path) -> None:
        self.args = args
        self.tools = tools
        self.work = work
        self.marker = work / "FILE"
        self.marker.write_text("present\n")
        self.counter = 0
        self.results: dict[str, Any] = {}
        self.rows: list[list[str]] = []
        self.notes: list[str] = []
        self.tables: list[tuple[str, str]] = []
        self._postgres: Any = None  # tests.store.pg_cluster.Cluster, started on first use

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.stop()

    def fresh(self, name: str) -> Path:
        self.counter += 1
        return self.work / f"{name}-{self.counter}"

    def phasegate(self, *args: str) -> list[str]:
        return [self.tools.phasegate, *args]

    def run_plan(self, plan: Path, store: str | None = None) -> float:
        where = ["--store", store] if store else []
        argv = self.phasegate("--state-dir", str(self.fresh("state")), *where, "run", str(plan))
        out = self.fresh(f"out-{plan.stem}")
        return timed(argv, cwd=self.work, output=out, timeout=self.args.run_cap)

    def row(
        self, what: str, value: str, base: str, ratio: str, goal: str, met: bool | None
    ) -> None:
        verdict = "n/a" if met is None else ("yes" if met else "NO")
        self.rows.append([what, value, base, ratio, goal, verdict])

    # -- 3: start-up ----------------------------------------------------------------------
    def startup(self) -> None:
        version, floor, cold = Samples(), Samples(), Samples()
        # Nothing cached at all: no bytecode writes, and an empty private pycache prefix.
        empty = str(self.fresh("empty-pycache"))
        no_cache = child_env(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty)
        argv = self.phasegate("--version")
        timed(argv, cwd=self.work)  # warm-up: writes the bytecode caches
        for i in range(self.args.version_reps):
            version.values.append(timed(argv, cwd=self.work))
            floor.values.append(timed([self.tools.python, "-c", "pass"], cwd=self.work))
            if i < 5:
                cold.values.append(timed(argv, cwd=self.work, env=no_cache))
        ms, floor_ms, cold_ms = version.median * 1000, floor.median * 1000, cold.median * 1000
        self.results["version"] = {
            "samples": version.values,
            "python_floor": floor.values,
            "no_bytecode_cache": cold.values,
        }
        goal = f"<= {GOAL_VERSION_MS:g} ms"
        self.row(
            "phasegate --version",
            f"{ms:.0f} ms",
            f"python -c pass {floor_ms:.0f} ms",
            f"{ms / floor_ms:.1f}x",
            goal,
            ms <= GOAL_VERSION_MS,
        )
        self.row(
            "phasegate --version, no bytecode cache",
            f"{cold_ms:.0f} ms",
            f"cached {ms:.0f} ms",
            f"{cold_ms / ms:.1f}x",
            INFO,
            None,
        )
        self.notes.append(
            f"--version: {version.spread('ms', 1000)}; without bytecode cache: "
            f"{cold.spread('ms', 1000)}"
        )

    # -- 1 + 2: engine overhead against bash and ansible --------------------------------------
    def engine(self) -> None:
        n, work, marker = self.args.steps, self.work, self.marker
        plans = {
            "chain-argv": workloads.chain_plan(work / "chain-argv.yaml", n, marker),
            "chain-shell": workloads.chain_plan(
                work / "chain-shell.yaml", n, marker, shell_steps=True
            ),
            "single-phase": workloads.single_phase_plan(work / "single-phase.yaml", n, marker),
            "one-step": workloads.chain_plan(work / "one-step.yaml", 1, marker),
        }
        script = workloads.bash_script(work / "baseline.sh", n, marker)
        cases: dict[str, Callable[[], float]] = {
            "bash": lambda: timed([self.tools.bash, str(script)], cwd=work),
        }
        for name, plan in plans.items():
            cases[f"phasegate {name}"] = functools.partial(self.run_plan, plan)
        cases["journal floor"] = lambda: journal_floor(self.fresh("floor"), n)
        postgres = self.postgres()
        if postgres is not None:
            cases["phasegate chain-argv (PostgreSQL)"] = functools.partial(
                self.run_plan, plans["chain-argv"], postgres
            )

        # Warm the page cache and the bytecode caches; not measured.
        self.run_plan(workloads.chain_plan(work / "warm.yaml", 3, marker))
        timed([self.tools.bash, str(workloads.bash_script(work / "warm.sh", 3, marker))], cwd=work)

        ansible = None
        if not self.args.no_ansible:
            ansible = AnsibleComparison(
                self.tools,
                work,
                marker,
                self.fresh,
                steps=n,
                cap=self.args.ansible_cap,
                calibration_steps=self.args.ansible_calibration_steps,
                run_cap=self.args.run_cap,
            )
            if not ansible.calibrate():
                self.notes.append(f"ansible skipped: {ansible.result.get('error')}")
                ansible = None

        samples = {name: Samples() for name in cases}
        failures: dict[str, str] = {}
        reps = self.args.reps
        for rep in range(reps):
            names = list(cases)
            names = names[rep % len(names) :] + names[: rep % len(names)]
            for name in names:
                if name in failures:
                    continue
                try:
                    samples[name].values.append(cases[name]())
                except BenchError as exc:
                    failures[name] = str(exc)
                    log(f"  [round {rep + 1}/{reps}] {name}: FAILED {exc}")
                    continue
                log(f"  [round {rep + 1}/{reps}] {name}: {samples[name].values[-1]:.2f}s")
            if ansible is not None and rep == reps // 2:
                ansible.measure()  # once, in the middle round, under the same conditions

        self.results["engine"] = {
            "steps": n,
            "samples": {k: v.values for k, v in samples.items()},
            "failures": failures,
        }
        bash = samples["bash"]
        if not bash.values:
            raise SystemExit(f"the bash baseline failed: {failures.get('bash')}")
        self.notes.append(f"bash ({2 * n} spawns): {bash.spread()}")
        self.engine_rows(n, samples, bash)
        self.ansible_row(n, ansible, samples["phasegate chain-argv"])
        pg = samples.get("phasegate chain-argv (PostgreSQL)")
        if pg is not None and pg.values:
            sqlite = samples["phasegate chain-argv"]
            ratio = pg.median / bash.median
            self.results["engine"]["chain-argv-postgresql"] = {
                "median_s": pg.median,
                "ratio_vs_bash": ratio,
                "ratio_vs_sqlite": pg.median / sqlite.median if sqlite.values else None,
            }
            self.row(
                f"engine: {n} phases x (argv step + gate), PostgreSQL store",
                f"{pg.median:.2f}s",
                f"bash {bash.median:.2f}s",
                f"{ratio:.1f}x",
                INFO,
                None,
            )
            self.notes.append(f"chain-argv on PostgreSQL (127.0.0.1, fsync on): {pg.spread()}")

    def postgres(self) -> str | None:
        """A throwaway local PostgreSQL (tests/store/pg_cluster.py) for the engine's
        PostgreSQL case; None (with a note) when it cannot start."""
        if self._postgres is not None:
            return self._postgres.url()
        try:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.store.pg_cluster import start_cluster

            self._postgres = start_cluster(durable=True)
        except (RuntimeError, OSError, ImportError) as exc:
            self.notes.append(f"PostgreSQL case skipped: {exc}")
            return None
        return self._postgres.url()

    def engine_rows(self, n: int, samples: dict[str, Samples], bash: Samples) -> None:
        base = f"bash {bash.median:.2f}s"
        goal = f"<= {GOAL_ENGINE_RATIO:g}x bash"
        labels = {
            "chain-argv": f"engine: {n} phases x (argv step + gate)",
            "chain-shell": f"engine: {n} phases x (shell step + gate)",
            "single-phase": f"engine: 1 phase x {n} steps + {n} gates",
        }
        for name, label in labels.items():
            s = samples[f"phasegate {name}"]
            if not s.values:
                self.row(label, "failed", base, "-", goal, False)
                continue
            ratio = s.median / bash.median
            per_step = (s.median - bash.median) / n * 1000
            self.results["engine"][name] = {"median_s": s.median, "ratio_vs_bash": ratio}
            self.row(
                label, f"{s.median:.2f}s", base, f"{ratio:.1f}x", goal, ratio <= GOAL_ENGINE_RATIO
            )
            self.notes.append(f"{name}: {s.spread()}; {per_step:.1f} ms per step over bash")
        fixed, chain = samples["phasegate one-step"], samples["phasegate chain-argv"]
        if fixed.values and chain.values:
            marginal = (chain.median - fixed.median) / max(n - 1, 1) * 1000
            self.results["engine"]["fixed_cost_s"] = fixed.median
            self.results["engine"]["marginal_ms_per_step"] = marginal
            self.row(
                "engine: run of a 1-step plan (fixed cost)",
                f"{fixed.median:.2f}s",
                "-",
                "-",
                INFO,
                None,
            )
            self.notes.append(
                f"chain-argv: fixed cost {fixed.median:.2f}s ({fixed.spread()}), "
                f"then {marginal:.1f} ms per step (spawn + gate spawn); bash "
                f"{bash.median / n * 1000:.1f} ms per step"
            )
        floor = samples["journal floor"]
        if floor.values:
            per_commit = floor.median / n * 1000
            self.results["engine"]["journal_floor_ms_per_commit"] = per_commit
            self.row(
                f"journal floor: {n} durable commits",
                f"{floor.median:.2f}s",
                base,
                f"{floor.median / bash.median:.1f}x",
                INFO,
                None,
            )
            self.notes.append(
                f"journal floor: {per_commit:.2f} ms per durable SQLite commit "
                f"({floor.spread()}); phasegate owes one per step"
            )

    def ansible_row(self, n: int, ansible: AnsibleComparison | None, pg: Samples) -> None:
        goal = f">= {GOAL_ANSIBLE_SPEEDUP:g}x faster"
        label = f"ansible-playbook -c local, {n} steps"
        if ansible is None:
            return
        self.results["ansible"] = ansible.result
        estimate = ansible.estimate()
        if estimate is None or not pg.values:
            self.row(label, "-", "-", "-", goal, None)
            self.notes.append(f"ansible failed: {ansible.result.get('error')}")
            return
        full, how = estimate
        speedup = full / pg.median
        ansible.result["speedup"] = speedup
        self.row(
            label,
            f"phasegate {pg.median:.2f}s",
            f"ansible {full:.0f}s ({how})",
            f"{speedup:.1f}x faster",
            goal,
            speedup >= GOAL_ANSIBLE_SPEEDUP,
        )
        r = ansible.result
        self.notes.append(
            f"ansible (1 repetition each): {r['small_steps']} steps "
            f"{r['small_s']:.1f}s, {r['big_steps']} steps {r['big_s']:.1f}s; "
            f"{r['marginal_s_per_step'] * 1000:.0f} ms per step (2 tasks)"
        )

    # -- 4 + 5: the 5,000-step plan -----------------------------------------------------------
    def big(self) -> None:
        plan = workloads.big_plan(self.work / "big.yaml", self.marker)
        argv = self.phasegate("validate", str(plan))
        timed(argv, cwd=self.work)  # warm-up
        validate = Samples([timed(argv, cwd=self.work) for _ in range(self.args.validate_reps)])
        self.results["validate"] = {"samples": validate.values}
        self.row(
            f"phasegate validate, {BIG_STEPS} steps",
            f"{validate.median:.2f}s",
            "-",
            "-",
            f"<= {GOAL_VALIDATE_S:g} s",
            validate.median <= GOAL_VALIDATE_S,
        )
        self.notes.append(f"validate: {validate.spread()}")
        if self.args.no_rss:
            return

        cap = self.args.rss_cap
        state = self.fresh("state-big")
        log(f"  run of the {BIG_STEPS}-step plan (cap {cap:.0f}s) …")
        run = self.phasegate("--state-dir", str(state), "run", str(plan))
        try:
            info = peak_rss(run, cwd=self.work, cap=cap, output=self.fresh("out-big"))
        except BenchError as exc:
            self.notes.append(str(exc))
            return
        info["finished_items"] = done = finished_items(state)
        self.results["rss"] = info
        mb = info["maxrss_kib"] / 1024
        goal = f"<= {GOAL_RSS_MB:g} MB"
        label = f"peak RSS, run of {BIG_STEPS} steps"
        if not info["timed_out"] and info["rc"] == 0:
            self.row(label, f"{mb:.0f} MB", "-", "-", goal, mb <= GOAL_RSS_MB)
            self.notes.append(f"run of {BIG_STEPS} steps: {info['wall']:.1f}s, exit 0")
            return
        # Stopped early: the peak so far can only prove the goal missed, never met.
        self.row(
            label, f"{mb:.0f} MB (incomplete)", "-", "-", goal, False if mb > GOAL_RSS_MB else None
        )
        why = f"stopped at the {cap:.0f}s cap" if info["timed_out"] else f"exit {info['rc']}"
        self.notes.append(
            f"run of {BIG_STEPS} steps {why} after {info['wall']:.0f}s, {done} "
            f"of {BIG_STEPS + 10} items done; RSS is the peak until then"
        )

    # -- 6: Markdown import -----------------------------------------------------------------
    def markdown_import(self) -> None:
        shared = imports.shared_dir()
        if shared is None:
            self.notes.append("markdown import skipped: no shared seeds/corpus directory found")
            return
        paths = imports.documents(shared)[: self.args.import_docs]
        if not paths:
            self.notes.append(f"markdown import skipped: no documents in {shared}")
            return
        reps = self.args.import_reps
        made = imports.synthetic(paths, self.work)
        log(f"  {len(paths)} documents from {shared}, {reps} repetitions each …")
        results = imports.measure(paths, reps, made[0] if made else None)
        big = imports.largest(results)
        ms = big.median * 1000
        goal = f"<= {GOAL_IMPORT_MS:g} ms"
        self.row(
            f"markdown import, largest document ({big.size / 1024:.1f} KB)",
            f"{ms:.1f} ms",
            "-",
            f"{ms / GOAL_IMPORT_MS:.2f}x goal",
            goal,
            ms <= GOAL_IMPORT_MS,
        )
        for doc in results:
            if doc.synthetic and made:
                synth = doc.median * 1000
                self.row(
                    f"markdown import, {doc.size / 1024:.0f} KB synthetic "
                    f"({made[1]} corpus documents)",
                    f"{synth:.1f} ms",
                    "-",
                    f"{synth / GOAL_IMPORT_MS:.2f}x goal",
                    goal,
                    synth <= GOAL_IMPORT_MS,
                )
        # A first `phasegate import` in a fresh process: interpreter, imports, the import.
        argv = self.phasegate("import", str(big.path), "-o", os.devnull)
        out = self.fresh("out-import")
        cold = timed(argv, cwd=self.work, output=out)
        warm = Samples([timed(argv, cwd=self.work, output=out) for _ in range(min(reps, 5))])
        self.row(
            "phasegate import (subprocess), largest document",
            f"first {cold * 1000:.0f} ms",
            f"warm {warm.median * 1000:.0f} ms",
            f"{cold * 1000 / GOAL_IMPORT_MS:.2f}x goal",
            INFO,
            None,
        )
        total = sum(d.median for d in results)
        self.notes.append(
            f"markdown import: {len(results)} documents, {reps} repetitions each after one "
            f"warm-up; largest {big.name} median {ms:.1f} ms, p95 {big.p95 * 1000:.1f} ms; "
            f"all documents {total * 1000:.0f} ms; subprocess: first {cold * 1000:.0f} ms, "
            f"then {warm.spread('ms', 1000)}"
        )
        self.results["import"] = {
            "shared": str(shared),
            "reps": reps,
            "documents": [
                {"path": str(d.path), "bytes": d.size, "samples": d.samples} for d in results
            ],
            "largest": str(big.path),
            "subprocess_first_s": cold,
            "subprocess_then": warm.values,
        }
        self.tables.append(("Markdown import, per document", imports.table(results)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = p.add_argument
    add("--quick", action="store_true", help="1 repetition, smaller Ansible run, lower caps")
    add("--json", type=Path, metavar="FILE", help="also write every sample as JSON")
    add("--steps", type=int, default=500, help="steps of the engine plans (default 500)")
    add("--reps", type=int, help="repetitions of the engine runs (default 3, quick 1)")
    add("--no-ansible", action="store_true", help="skip the Ansible comparison")
    add("--no-rss", action="store_true", help="skip running the 5,000-step plan")
    add("--ansible-cap", type=float, help="seconds for the Ansible run (default 180, quick 45)")
    add("--rss-cap", type=float, help="seconds for the 5,000-step run (default 600, quick 120)")
    add("--run-cap", type=float, default=1800.0, help="seconds any one command may take")
    add("--keep", action="store_true", help="keep the scratch directory")
    add(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run only this part (repeatable): {', '.join(SECTIONS)}",
    )
    add("--import-reps", type=int, help="repetitions per Markdown document (default 20, quick 5)")
    add("--import-docs", type=int, help="import only the first N shared documents")
    args = p.parse_args(argv)
    args.only = args.only or list(SECTIONS)
    args.import_reps = args.import_reps or (5 if args.quick else 20)
    args.reps = args.reps or (1 if args.quick else 3)
    args.version_reps = 7 if args.quick else 20
    args.validate_reps = 3 if args.quick else 5
    args.ansible_cap = args.ansible_cap or (45.0 if args.quick else 180.0)
    args.ansible_calibration_steps = 5 if args.quick else 10
    args.rss_cap = args.rss_cap or (120.0 if args.quick else 600.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = Tools.find()
    started = time.perf_counter()
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="phasegate-bench-"))
    log(f"phasegate bench in {work}: {info['cpus']} cpus, load {info['loadavg_start'][0]:.2f}")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # so the scratch dir goes too
    suite = Suite(args, tools, work)
    sections: dict[str, tuple[str, Callable[[], None]]] = {
        "startup": ("start-up …", suite.startup),
        "engine": ("engine overhead …", suite.engine),
        "big": (f"the {BIG_STEPS}-step plan …", suite.big),
        "import": ("Markdown import …", suite.markdown_import),
        "routers": ("traffic routers …", functools.partial(routers.section, suite)),
        "detection": (
            "canary detection-to-rollback …",
            functools.partial(detection.section, suite),
        ),
        "server": ("phasegate serve under load …", functools.partial(server.section, suite)),
    }
    try:
        for name in SECTIONS:
            if name in args.only:
                log(sections[name][0])
                sections[name][1]()
    finally:
        suite.close()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    info["loadavg_end"] = os.getloadavg()
    info["elapsed_s"] = time.perf_counter() - started
    dirty = " + uncommitted changes in src/" if info.get("src_modified") else ""
    print(
        f"\nphasegate {info.get('phasegate', '?')} from {info.get('phasegate_from', '?')} "
        f"(commit {info.get('commit', '?')}{dirty})"
    )
    print(
        f"{info['date']}, {info['cpus']} cpus, Python {info['python']}, load average "
        f"{info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f}, "
        f"suite took {info['elapsed_s'] / 60:.1f} min\n"
    )
    print(table(suite.rows))
    print()
    for note in suite.notes:
        print(f"- {note}")
    for title, text in suite.tables:
        print(f"\n{title}:\n\n{text}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "machine": info,
            "results": suite.results,
            "table": suite.rows,
            "notes": suite.notes,
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nevery sample written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
