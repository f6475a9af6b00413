"""phasegate's performance suite: ratios measured side by side, in one run, on this machine.

    uv run python bench/run.py              # full suite (~15-30 min on 2 shared cores)
    uv run python bench/run.py --quick      # 1 repetition, smaller Ansible run, shorter caps
    uv run python bench/run.py --json bench/results/latest.json

What it measures (the goals come from the performance issue; they are reported, never
asserted, and the exit code is 0 whatever they show):

1. Engine overhead: a 500-step plan (per step: ``/usr/bin/true``, then a ``command`` gate
   ``/usr/bin/test -f FILE``) against a bash script doing the same 1,000 spawns. Three plan
   shapes: 500 chained phases with argv steps, the same with shell-string steps, and one phase
   with 500 steps and 500 gates. Goal: phasegate <= 1.5x bash, with the durable journal on
   (it always is: each step's start is committed with ``synchronous=FULL`` before its spawn).
2. The same work as an ``ansible-playbook`` play (local connection). Goal: phasegate >= 20x
   faster. Ansible takes ~0.2-0.4 s per task here, so when 500 steps would not fit the time
   cap it runs fewer steps and the 500-step time is extrapolated linearly from two sizes
   (the output says so).
3. ``phasegate --version``: median of 20, beside ``python -c pass`` as the floor. Goal <= 150 ms.
4. ``phasegate validate`` of a 5,000-step plan: median of 5. Goal <= 1 s.
5. Peak RSS of ``phasegate run`` of that 5,000-step plan, from ``getrusage(RUSAGE_CHILDREN)``
   in a fresh wrapper process. Goal <= 100 MB. The run has a time cap; if it hits it, the
   peak so far is reported with how far the run got.

Repetitions are interleaved (round 1 runs every case once, in an order rotated each round),
so load from other tenants of a shared machine spreads over all cases instead of landing on
one; each figure is the median of its repetitions. Every phasegate run gets a fresh
``--state-dir``; commands' output goes to a file, as under CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import workloads

STEPS = 500
BIG_STEPS = 5000

GOAL_ENGINE_RATIO = 1.5
GOAL_ANSIBLE_SPEEDUP = 20.0
GOAL_VERSION_MS = 150.0
GOAL_VALIDATE_S = 1.0
GOAL_RSS_MB = 100.0

# A fresh interpreter that runs one command and reports its own children's peak RSS: the
# bench process itself has had bigger children (ansible) whose peak would mask phasegate's.
RSS_WRAPPER = r"""
import json, resource, signal, subprocess, sys, time
cap = float(sys.argv[1]); argv = sys.argv[2:]
started = time.perf_counter()
with open(argv.pop(0), "wb") as log:
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    timed_out = False
    try:
        proc.wait(cap)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.send_signal(signal.SIGINT)   # phasegate journals the interruption and exits 130
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"wall": wall, "rc": proc.returncode, "timed_out": timed_out,
                  "maxrss_kib": peak}))
"""


class BenchError(Exception):
    pass


@dataclass
class Tools:
    python: str
    phasegate: str
    bash: str
    ansible_playbook: str | None

    @classmethod
    def find(cls) -> Tools:
        bindir = Path(sys.executable).parent
        phasegate = bindir / "phasegate"
        if not phasegate.exists():
            raise SystemExit("phasegate is not installed in this environment; run `uv sync`")
        ansible = bindir / "ansible-playbook"
        bash = shutil.which("bash") or "/bin/bash"
        return cls(sys.executable, str(phasegate), bash,
                   str(ansible) if ansible.exists() else None)


@dataclass
class Samples:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, unit: str = "s", scale: float = 1.0) -> str:
        vals = sorted(v * scale for v in self.values)
        fmt = "{:.0f}" if unit == "ms" else "{:.2f}"
        return f"n={len(vals)} min {fmt.format(vals[0])} max {fmt.format(vals[-1])} {unit}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every measured command.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: an environment that sets it (this sandbox does)
    together with a venv installed without compiled bytecode (uv's default) makes every
    Python start compile each imported module from source, which is not how an installed
    tool runs (pip compiles on install, and ``uv sync --compile-bytecode`` does). The
    warm-up runs write the caches; the "no bytecode cache" row shows the other case.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def timed(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
          timeout: float = 1800.0, output: Path | None = None) -> float:
    """Wall time of one command; raises BenchError when it fails (a failed run measures
    nothing)."""
    sink = open(output, "wb") if output else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env or child_env(), stdin=subprocess.DEVNULL, stdout=sink,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)
        elapsed = time.perf_counter() - started
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(argv[:3])}… did not finish in {timeout:.0f}s") from exc
    finally:
        if output:
            sink.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        tail = output.read_text(errors="replace")[-2000:] if output else ""
        raise BenchError(f"{' '.join(argv[:4])}… exited {proc.returncode}\n{tail}")
    return elapsed


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

    # -- helpers ---------------------------------------------------------------------------
    def fresh(self, name: str) -> Path:
        self.counter += 1
        return self.work / f"{name}-{self.counter}"

    def phasegate_run(self, plan: Path, name: str) -> float:
        state = self.fresh(f"state-{name}")
        return timed([self.tools.phasegate, "--state-dir", str(state), "run", str(plan)],
                     cwd=self.work, output=self.fresh(f"out-{name}"), timeout=self.args.run_cap)

    def ansible_env(self) -> dict[str, str]:
        home = self.work / "ansible"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        cfg = home / "ansible.cfg"
        cfg.write_text("# empty: keep any ansible.cfg of the caller out of the measurement\n")
        env = child_env()
        env.update({
            "ANSIBLE_CONFIG": str(cfg),
            "ANSIBLE_HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(home / "tmp"),
            "ANSIBLE_COLLECTIONS_PATH": str(home / "collections"),
            "ANSIBLE_ROLES_PATH": str(home / "roles"),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "True",
            "ANSIBLE_NOCOLOR": "1",
            # Ansible's own recommended speed-up; the fairest setting for the comparison.
            "ANSIBLE_PIPELINING": "True",
        })
        return env

    def ansible_run(self, steps: int) -> float:
        assert self.tools.ansible_playbook is not None
        book = workloads.ansible_playbook(self.fresh("playbook").with_suffix(".yml"), steps,
                                          self.marker)
        argv = [self.tools.ansible_playbook, "-i", "localhost,", "-c", "local",
                "-e", f"ansible_python_interpreter={self.tools.python}", str(book)]
        return timed(argv, cwd=self.work, env=self.ansible_env(),
                     output=self.fresh("out-ansible"), timeout=self.args.run_cap)

    def row(self, measurement: str, value: str, baseline: str, ratio: str, goal: str,
            met: bool | None) -> None:
        verdict = "n/a" if met is None else ("yes" if met else "NO")
        self.rows.append([measurement, value, baseline, ratio, goal, verdict])

    # -- 1 + 2: engine overhead, bash and ansible ------------------------------------------
    def engine(self) -> None:
        n = self.args.steps
        plans = {
            "chain-argv": workloads.chain_plan(self.work / "chain-argv.yaml", n, self.marker),
            "chain-shell": workloads.chain_plan(self.work / "chain-shell.yaml", n, self.marker,
                                                shell_steps=True),
            "single-phase": workloads.single_phase_plan(self.work / "single-phase.yaml", n,
                                                        self.marker),
        }
        script = workloads.bash_script(self.work / "baseline.sh", n, self.marker)
        cases: dict[str, Callable[[], float]] = {
            "bash": lambda: timed([self.tools.bash, str(script)], cwd=self.work),
        }
        for name, plan in plans.items():
            cases[f"phasegate {name}"] = lambda plan=plan, name=name: self.phasegate_run(
                plan, name)

        # Warm the page cache and the bytecode cache; not measured.
        warm = workloads.chain_plan(self.work / "warm.yaml", 3, self.marker)
        self.phasegate_run(warm, "warm")
        timed([self.tools.bash, str(workloads.bash_script(self.work / "warm.sh", 3,
                                                           self.marker))], cwd=self.work)

        ansible = self.ansible_plan()
        samples = {name: Samples() for name in cases}
        failures: dict[str, str] = {}
        reps = self.args.reps
        for rep in range(reps):
            names = list(cases)
            shift = rep % len(names)
            names = names[shift:] + names[:shift]
            for name in names:
                if name in failures:
                    continue
                try:
                    value = cases[name]()
                except BenchError as exc:
                    failures[name] = str(exc)
                    log(f"  [round {rep + 1}/{reps}] {name}: FAILED {exc}")
                    continue
                samples[name].values.append(value)
                log(f"  [round {rep + 1}/{reps}] {name}: {value:.2f}s")
            # Ansible runs once, in the middle round, under the same conditions.
            if ansible is not None and rep == reps // 2:
                self.ansible_measure(ansible)

        self.results["engine"] = {
            "steps": n,
            "samples": {k: v.values for k, v in samples.items()},
            "failures": failures,
        }
        bash = samples["bash"]
        if not bash.values:
            raise SystemExit(f"the bash baseline failed: {failures.get('bash')}")
        self.notes.append(f"bash baseline ({2 * n} spawns): median {bash.median:.3f}s "
                          f"({bash.spread()})")
        labels = {
            "chain-argv": f"engine: {n} phases x (argv step + gate)",
            "chain-shell": f"engine: {n} phases x (shell step + gate)",
            "single-phase": f"engine: 1 phase x {n} steps + {n} gates",
        }
        for name, label in labels.items():
            key = f"phasegate {name}"
            s = samples[key]
            if not s.values:
                self.row(label, "failed", f"bash {bash.median:.2f}s", "-",
                         f"<= {GOAL_ENGINE_RATIO}x", False)
                continue
            ratio = s.median / bash.median
            per_spawn = (s.median - bash.median) / (2 * n) * 1000
            self.results["engine"][name] = {"median_s": s.median, "ratio_vs_bash": ratio,
                                            "overhead_ms_per_spawn": per_spawn}
            self.row(label, f"{s.median:.2f}s", f"bash {bash.median:.2f}s", f"{ratio:.1f}x",
                     f"<= {GOAL_ENGINE_RATIO}x bash", ratio <= GOAL_ENGINE_RATIO)
            self.notes.append(f"phasegate {name}: {s.spread()}; overhead over bash "
                              f"{per_spawn:.1f} ms per spawn")
        self.ansible_report(samples["phasegate chain-argv"])

    def ansible_plan(self) -> dict[str, Any] | None:
        """Calibrate: time a small play, then pick the largest step count that fits the cap."""
        if self.args.no_ansible:
            return None
        if self.tools.ansible_playbook is None:
            self.notes.append("ansible-playbook not installed (uv sync --all-groups): skipped")
            return None
        small = self.args.ansible_calibration_steps
        log("  ansible warm-up: 1 step …")
        try:
            self.ansible_run(1)
        except BenchError as exc:
            self.notes.append(f"ansible failed: {exc}")
            return None
        log(f"  ansible calibration: {small} steps …")
        try:
            t_small = self.ansible_run(small)
        except BenchError as exc:
            self.notes.append(f"ansible calibration failed: {exc}")
            return None
        log(f"  ansible calibration: {small} steps in {t_small:.1f}s")
        # t_small/small over-estimates the marginal cost (it carries the startup), so the
        # chosen size errs on the short side of the cap.
        fits = int(self.args.ansible_cap / (t_small / small))
        big = min(self.args.steps, max(fits, 2 * small))
        return {"small_steps": small, "small_s": t_small, "big_steps": big}

    def ansible_measure(self, plan: dict[str, Any]) -> None:
        big = plan["big_steps"]
        log(f"  ansible: {big} steps …")
        try:
            plan["big_s"] = self.ansible_run(big)
            log(f"  ansible: {big} steps in {plan['big_s']:.1f}s")
        except BenchError as exc:
            plan["error"] = str(exc)
        self.results["ansible"] = plan

    def ansible_report(self, pg: Samples) -> None:
        plan = self.results.get("ansible")
        n = self.args.steps
        label = f"ansible-playbook -c local, {n} steps"
        if plan is None or "big_s" not in plan or not pg.values:
            if plan is not None and "error" in plan:
                self.notes.append(f"ansible failed: {plan['error']}")
            if not self.args.no_ansible:
                self.row(label, "-", "-", "-", f">= {GOAL_ANSIBLE_SPEEDUP:g}x faster", None)
            return
        small, t_small = plan["small_steps"], plan["small_s"]
        big, t_big = plan["big_steps"], plan["big_s"]
        per_step = (t_big - t_small) / (big - small) if big > small else t_big / big
        if big >= n:
            t_full, how = t_big, "measured"
        else:
            t_full = t_big + per_step * (n - big)
            how = f"extrapolated from {small} and {big} steps"
        speedup = t_full / pg.median
        plan.update({"per_step_s": per_step, "t_full_s": t_full, "how": how,
                     "speedup": speedup})
        self.row(label, f"pg {pg.median:.2f}s", f"ansible {t_full:.1f}s ({how})",
                 f"{speedup:.1f}x faster", f">= {GOAL_ANSIBLE_SPEEDUP:g}x faster",
                 speedup >= GOAL_ANSIBLE_SPEEDUP)
        self.notes.append(f"ansible: {small} steps {t_small:.1f}s, {big} steps {t_big:.1f}s; "
                          f"marginal {per_step * 1000:.0f} ms per step (2 tasks), 1 repetition")

    # -- 3: startup -------------------------------------------------------------------------
    def startup(self) -> None:
        version, floor, cold = Samples(), Samples(), Samples()
        # Nothing cached: PYTHONDONTWRITEBYTECODE plus an empty, private pycache prefix.
        no_cache = child_env(PYTHONDONTWRITEBYTECODE="1",
                             PYTHONPYCACHEPREFIX=str(self.fresh("empty-pycache")))
        timed([self.tools.phasegate, "--version"], cwd=self.work)  # warm-up, writes caches
        for _ in range(self.args.version_reps):
            version.values.append(timed([self.tools.phasegate, "--version"], cwd=self.work))
            floor.values.append(timed([self.tools.python, "-c", "pass"], cwd=self.work))
            if len(cold.values) < 5:
                cold.values.append(timed([self.tools.phasegate, "--version"], cwd=self.work,
                                         env=no_cache))
        ms = version.median * 1000
        self.results["version"] = {"samples": version.values, "python_floor": floor.values}
        self.row("phasegate --version", f"{ms:.0f} ms", f"python -c pass {floor.median * 1000:.0f} ms",
                 f"{version.median / floor.median:.1f}x", f"<= {GOAL_VERSION_MS:g} ms",
                 ms <= GOAL_VERSION_MS)
        self.notes.append(f"--version: {version.spread('ms', 1000)}")
        self.results["version"]["no_bytecode_cache"] = cold.values
        self.row("phasegate --version, no bytecode cache", f"{cold.median * 1000:.0f} ms",
                 f"cached {ms:.0f} ms", f"{cold.median / version.median:.1f}x",
                 "(information)", None)
        self.notes.append(f"--version without bytecode cache: {cold.spread('ms', 1000)}")

    # -- 4 + 5: the 5,000-step plan ----------------------------------------------------------
    def big(self) -> None:
        plan = workloads.big_plan(self.work / "big.yaml", self.marker)
        validate = Samples()
        timed([self.tools.phasegate, "validate", str(plan)], cwd=self.work)  # warm-up
        for _ in range(self.args.validate_reps):
            validate.values.append(timed([self.tools.phasegate, "validate", str(plan)],
                                         cwd=self.work))
        self.results["validate"] = {"samples": validate.values}
        self.row(f"phasegate validate, {BIG_STEPS} steps", f"{validate.median:.2f}s", "-", "-",
                 f"<= {GOAL_VALIDATE_S:g} s", validate.median <= GOAL_VALIDATE_S)
        self.notes.append(f"validate: {validate.spread()}")

        if self.args.no_rss:
            return
        state = self.fresh("state-big")
        out = self.fresh("out-big")
        log(f"  run of the {BIG_STEPS}-step plan (cap {self.args.rss_cap:.0f}s) …")
        proc = subprocess.run(
            [self.tools.python, "-c", RSS_WRAPPER, str(self.args.rss_cap), str(out),
             self.tools.phasegate, "--state-dir", str(state), "run", str(plan)],
            cwd=self.work, env=child_env(), capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            self.notes.append(f"RSS wrapper failed: {proc.stderr[-500:]}")
            return
        info = json.loads(proc.stdout)
        mb = info["maxrss_kib"] / 1024
        done = finished_steps(state)
        info["finished_items"] = done
        self.results["rss"] = info
        complete = not info["timed_out"] and info["rc"] == 0
        if complete:
            value, met = f"{mb:.0f} MB", mb <= GOAL_RSS_MB
            self.notes.append(f"run of {BIG_STEPS} steps: {info['wall']:.1f}s wall, exit 0")
        else:
            value = f"{mb:.0f} MB (incomplete)"
            met = False if mb > GOAL_RSS_MB else None
            why = f"stopped at the {self.args.rss_cap:.0f}s cap" if info["timed_out"] else (
                f"exit {info['rc']}")
            self.notes.append(f"run of {BIG_STEPS} steps {why} after {info['wall']:.0f}s with "
                              f"{done} of {BIG_STEPS + 10} items finished; the peak RSS is "
                              "the peak up to then")
        self.row(f"peak RSS, run of {BIG_STEPS} steps", value, "-", "-",
                 f"<= {GOAL_RSS_MB:g} MB", met)


def finished_steps(state_dir: Path) -> int | None:
    """How far a run got, read from its journal (read-only)."""
    try:
        uri = f"file:{state_dir / 'phasegate.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            row = db.execute("SELECT count(*) FROM items WHERE status IN "
                             "('succeeded', 'passed')").fetchone()
        return int(row[0])
    except sqlite3.Error:
        return None


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        from phasegate import __version__

        info["phasegate"] = __version__
    except ImportError:
        pass
    return info


def table(rows: list[list[str]]) -> str:
    head = ["measurement", "value", "baseline", "ratio", "goal", "met?"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="1 repetition, a shorter Ansible run and lower time caps")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write all samples as JSON")
    p.add_argument("--steps", type=int, default=STEPS, help="steps of the engine plans")
    p.add_argument("--reps", type=int, help="repetitions of the engine runs (default 3)")
    p.add_argument("--no-ansible", action="store_true", help="skip the Ansible comparison")
    p.add_argument("--no-rss", action="store_true", help="skip running the 5,000-step plan")
    p.add_argument("--ansible-cap", type=float,
                   help="seconds the main Ansible run may take (default 180, quick 45)")
    p.add_argument("--rss-cap", type=float,
                   help="seconds the 5,000-step run may take (default 600, quick 120)")
    p.add_argument("--run-cap", type=float, default=1800.0,
                   help="seconds any one measured command may take")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = p.parse_args(argv)
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
    log(f"phasegate bench: scratch dir {work}, {info['cpus']} cpus, "
        f"load {info['loadavg_start'][0]:.2f}")
    # A Ctrl-C leaves a half-written table; still clean up the scratch directory.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    suite = Suite(args, tools, work)
    try:
        log("startup …")
        suite.startup()
        log("engine overhead …")
        suite.engine()
        log("5,000-step plan …")
        suite.big()
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    info["loadavg_end"] = os.getloadavg()
    info["elapsed_s"] = time.perf_counter() - started
    print()
    print(f"phasegate {info.get('phasegate', '?')} — {info['date']} — {info['cpus']} cpus, "
          f"Python {info['python']}, load {info['loadavg_start'][0]:.2f} → "
          f"{info['loadavg_end'][0]:.2f}, suite took {info['elapsed_s'] / 60:.1f} min")
    print(table(suite.rows))
    print()
    for note in suite.notes:
        print(f"- {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, "results": suite.results,
                                         "table": suite.rows, "notes": suite.notes},
                                        indent=2) + "\n")
        print(f"\nsamples written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
