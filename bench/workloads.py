"""The inputs of the benchmark suite, generated as text into a scratch directory.

Every workload does the same work in each tool: per step, one spawn of ``/usr/bin/true`` and
one spawn of ``/usr/bin/test -f MARKER`` (binaries, never shell builtins), strictly one after
the other. Plans are written as block YAML by hand (not ``yaml.dump``) so they look like the
plans people write, and so generating them costs nothing measurable.
"""

from __future__ import annotations

from pathlib import Path

TRUE = "/usr/bin/true"
TEST = "/usr/bin/test"


def chain_plan(path: Path, steps: int, marker: Path, *, shell_steps: bool = False) -> Path:
    """``steps`` phases, each one step and one gate, chained by ``needs``.

    Gates run after a phase's steps, so "one gate per step" means one phase per step; the
    ``needs`` chain makes the phases run one after the other, like the bash loop.
    ``shell_steps`` writes the step as a shell string (run by ``defaults.shell``, i.e. bash)
    instead of an argv list; the gate stays an argv list in both forms.
    """
    run = f"run: {TRUE}" if shell_steps else f"run: [{TRUE}]"
    lines = ["version: 1", f"name: bench-chain-{'shell' if shell_steps else 'argv'}", "phases:"]
    for i in range(steps):
        lines.append(f"  - id: p{i:05d}")
        if i:
            lines.append(f"    needs: [p{i - 1:05d}]")
        lines += [
            "    steps:",
            f"      - {run}",
            "    gates:",
            f"      - command: [{TEST}, -f, {marker}]",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def single_phase_plan(path: Path, steps: int, marker: Path) -> Path:
    """One phase with ``steps`` steps and ``steps`` gates (the gates run after all steps)."""
    lines = ["version: 1", "name: bench-single-phase", "phases:", "  - id: only", "    steps:"]
    lines += [f"      - run: [{TRUE}]" for _ in range(steps)]
    lines.append("    gates:")
    lines += [f"      - command: [{TEST}, -f, {marker}]" for _ in range(steps)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def big_plan(
    path: Path, marker: Path, *, phases: int = 100, steps_per_phase: int = 50, gate_every: int = 10
) -> Path:
    """The 5,000-step plan: ``phases`` x ``steps_per_phase`` argv steps, phases chained by
    ``needs``, a ``command`` gate on every ``gate_every``-th phase."""
    lines = ["version: 1", "name: bench-big", "phases:"]
    for i in range(phases):
        lines.append(f"  - id: phase-{i:04d}")
        if i:
            lines.append(f"    needs: [phase-{i - 1:04d}]")
        lines.append("    steps:")
        for j in range(steps_per_phase):
            lines += [f"      - name: step {i}.{j}", f"        run: [{TRUE}]"]
        if i % gate_every == 0:
            lines += ["    gates:", f"      - command: [{TEST}, -f, {marker}]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bash_script(path: Path, steps: int, marker: Path) -> Path:
    """The baseline: the same 2 x ``steps`` process spawns, sequential, failing on error."""
    path.write_text(
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        f"for ((i = 0; i < {steps}; i++)); do\n"
        f"  {TRUE}\n"
        f"  {TEST} -f '{marker}'\n"
        "done\n",
        encoding="utf-8",
    )
    return path


def ansible_playbook(path: Path, steps: int, marker: Path) -> Path:
    """The same work as an Ansible play on localhost: two ``command`` tasks per step."""
    lines = [
        "- hosts: localhost",
        "  connection: local",
        "  gather_facts: false",
        "  tasks:",
    ]
    for i in range(steps):
        lines += [
            f"    - name: step {i}",
            f"      command: {TRUE}",
            f"    - name: gate {i}",
            f"      command: {TEST} -f {marker}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
