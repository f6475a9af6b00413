"""Generate the CLI reference (README section and docs/cli.md) from ``phasegate --help``.

python scripts/gen_cli_reference.py          # rewrite
python scripts/gen_cli_reference.py --check  # fail if out of date (run by the tests)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def help_text(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "phasegate", *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout.replace("python -m phasegate", "phasegate").rstrip() + "\n"


def verbs() -> list[str]:
    from phasegate.cli import VERBS

    return list(VERBS)


def full_reference() -> str:
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `scripts/gen_cli_reference.py`; do not edit by hand.\n",
        "## phasegate\n",
        "```text\n" + help_text() + "```\n",
    ]
    for verb in verbs():
        parts += [f"## phasegate {verb}\n", "```text\n" + help_text(verb) + "```\n"]
        for sub in subcommands(verb):
            parts += [
                f"### phasegate {verb} {sub}\n",
                "```text\n" + help_text(verb, sub) + "```\n",
            ]
    return "\n".join(parts)


def subcommands(verb: str) -> list[str]:
    """A verb that is a group of its own (``schedule add|list|…``): its commands, in order."""
    import importlib

    import click

    from phasegate.cli import VERBS

    module, attribute = VERBS[verb]
    command = getattr(importlib.import_module(module), attribute)
    return list(command.commands) if isinstance(command, click.Group) else []


def readme_section() -> str:
    lines = [START, "", "```text", help_text().rstrip(), "```", ""]
    for verb in verbs():
        usage = help_text(verb).splitlines()[0]
        lines.append(f"- `{usage.removeprefix('Usage: ')}`")
    lines += ["", "Every verb's options: [docs/cli.md](docs/cli.md).", "", END]
    return "\n".join(lines)


def main() -> int:
    check = "--check" in sys.argv
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        print("README.md has no CLI reference markers", file=sys.stderr)
        return 1
    new_readme = pattern.sub(lambda _: readme_section(), readme)
    cli_path = ROOT / "docs" / "cli.md"
    new_cli = full_reference()
    if check:
        stale = []
        if new_readme != readme:
            stale.append("README.md")
        if not cli_path.exists() or cli_path.read_text(encoding="utf-8") != new_cli:
            stale.append("docs/cli.md")
        if stale:
            print(
                f"out of date: {', '.join(stale)}; run python scripts/gen_cli_reference.py",
                file=sys.stderr,
            )
            return 1
        return 0
    readme_path.write_text(new_readme, encoding="utf-8")
    cli_path.write_text(new_cli, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
