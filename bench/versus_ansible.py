"""The same work as an ``ansible-playbook`` play on localhost (``-c local``).

Ansible spends a large fraction of a second per task here, so 500 steps (1,000 tasks) may not
fit the time cap. Then it runs a smaller play and the 500-step time is extrapolated linearly
from two sizes: fixed cost from the small run, marginal cost per step from the difference.
The output always says whether the figure was measured or extrapolated, and from what.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import workloads
from measure import BenchError, Tools, child_env, log, timed


class AnsibleComparison:
    def __init__(
        self,
        tools: Tools,
        work: Path,
        marker: Path,
        fresh: Callable[[str], Path],
        *,
        steps: int,
        cap: float,
        calibration_steps: int,
        run_cap: float,
    ) -> None:
        self.tools = tools
        self.work = work
        self.marker = marker
        self.fresh = fresh
        self.steps = steps
        self.cap = cap
        self.calibration_steps = calibration_steps
        self.run_cap = run_cap
        self.result: dict[str, Any] = {}
        self.home = work / "ansible"

    def env(self) -> dict[str, str]:
        (self.home / "tmp").mkdir(parents=True, exist_ok=True)
        cfg = self.home / "ansible.cfg"
        cfg.write_text("# empty: keep the caller's ansible.cfg out of the measurement\n")
        return child_env(
            ANSIBLE_CONFIG=str(cfg),
            ANSIBLE_HOME=str(self.home),
            ANSIBLE_LOCAL_TEMP=str(self.home / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(self.home / "tmp"),
            ANSIBLE_COLLECTIONS_PATH=str(self.home / "collections"),
            ANSIBLE_ROLES_PATH=str(self.home / "roles"),
            ANSIBLE_RETRY_FILES_ENABLED="False",
            ANSIBLE_GATHERING="explicit",
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_LOCALHOST_WARNING="False",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
            ANSIBLE_DEPRECATION_WARNINGS="False",
            ANSIBLE_NOCOLOR="1",
            # Ansible's own recommended speed-up: the fairest setting for a comparison.
            ANSIBLE_PIPELINING="True",
        )

    def run(self, steps: int) -> float:
        assert self.tools.ansible_playbook is not None
        book = workloads.ansible_playbook(
            self.fresh("playbook").with_suffix(".yml"), steps, self.marker
        )
        argv = [
            self.tools.ansible_playbook,
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={self.tools.python}",
            str(book),
        ]
        return timed(
            argv,
            cwd=self.work,
            env=self.env(),
            output=self.fresh("out-ansible"),
            timeout=self.run_cap,
        )

    def calibrate(self) -> bool:
        """Warm up, time a small play, and pick the largest size that fits the cap."""
        if self.tools.ansible_playbook is None:
            self.result["error"] = "ansible-playbook is not installed (uv sync --all-groups)"
            return False
        small = self.calibration_steps
        try:
            log("  ansible warm-up: 1 step …")
            self.run(1)
            log(f"  ansible calibration: {small} steps …")
            t_small = self.run(small)
        except BenchError as exc:
            self.result["error"] = str(exc)
            return False
        log(f"  ansible calibration: {small} steps in {t_small:.1f}s")
        # t_small / small carries the start-up too, so it over-estimates the marginal cost
        # and the chosen size errs on the short side of the cap.
        fits = int(self.cap / (t_small / small))
        big = min(self.steps, max(fits, 2 * small))
        self.result.update({"small_steps": small, "small_s": t_small, "big_steps": big})
        return True

    def measure(self) -> None:
        big = self.result["big_steps"]
        log(f"  ansible: {big} steps …")
        try:
            self.result["big_s"] = self.run(big)
        except BenchError as exc:
            self.result["error"] = str(exc)
            return
        log(f"  ansible: {big} steps in {self.result['big_s']:.1f}s")

    def estimate(self) -> tuple[float, str] | None:
        """Ansible's time for the full step count, and how it was obtained."""
        r = self.result
        if "big_s" not in r:
            return None
        small, t_small, big, t_big = r["small_steps"], r["small_s"], r["big_steps"], r["big_s"]
        per_step = (t_big - t_small) / (big - small) if big > small else t_big / big
        r["marginal_s_per_step"] = per_step
        if big >= self.steps:
            r["full_s"], r["how"] = t_big, "measured"
        else:
            r["full_s"] = t_big + per_step * (self.steps - big)
            r["how"] = f"extrapolated from {small} and {big} steps"
        return r["full_s"], r["how"]
