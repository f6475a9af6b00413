"""The ``KEY=VALUE`` lines a command writes to ``$PHASEGATE_OUTPUT`` (as GitHub's
``$GITHUB_OUTPUT``): a step's outputs, kept in its ``item.finished`` event and read by every
later expression, view and report of the run.

Outputs are for values, not data, and they live in the journal, so they are bounded as
GitHub bounds its own (1 MB per output, 50 MB per run): at most ``FILE_LIMIT`` bytes of the
file are read (lines past it are not), a value over ``VALUE_LIMIT`` bytes is left out (never
cut: a shortened value would be a wrong one), and at most ``KEYS_LIMIT`` keys are kept. An
output left out is absent: an expression that reads it fails as for any missing output,
and ``Outputs.note`` says why in the step's log and on the terminal."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

FILE_LIMIT = 1 << 20
VALUE_LIMIT = 64 << 10
KEYS_LIMIT = 1_000


@dataclass(frozen=True)
class Outputs:
    """What one read of an output file kept, and what the limits left out of it."""

    values: dict[str, str]
    big: tuple[str, ...] = ()  # keys whose value was over VALUE_LIMIT, in file order
    extra_keys: int = 0  # keys past KEYS_LIMIT
    size: int | None = None  # the file's size, when it was over FILE_LIMIT

    def note(self) -> str | None:
        """What the limits left out, in words (the step's log and the terminal); None when
        nothing."""
        said = []
        if self.size is not None:
            said.append(
                f"its {self.size} bytes are over the {FILE_LIMIT}-byte limit: lines past it "
                "not read"
            )
        if self.big:
            names = sorted(set(self.big))[:10]
            said.append(f"values over {VALUE_LIMIT} bytes left out: {', '.join(names)}")
        if self.extra_keys:
            total = len(self.values) + self.extra_keys
            said.append(f"{total} keys, only the first {KEYS_LIMIT} kept")
        if not said:
            return None
        advice = "outputs are for values: write data to a file"
        return f"$PHASEGATE_OUTPUT: {'; '.join(said)} ({advice})"


def parse(text: str) -> Outputs:
    """``KEY=VALUE`` lines; the last one of a key wins; within the limits above."""
    values: dict[str, str] = {}
    big: list[str] = []
    extra: set[str] = set()
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        if len(value.encode("utf-8", "replace")) > VALUE_LIMIT:
            big.append(name)
        elif name not in values and len(values) >= KEYS_LIMIT:
            extra.add(name)
        else:
            values[name] = value
    return Outputs(values, tuple(big), len(extra))


def _whole_lines(data: bytes) -> bytes:
    """The whole lines within the first FILE_LIMIT bytes (a line cut by the limit would be a
    shortened value)."""
    return data[:FILE_LIMIT].rpartition(b"\n")[0] if len(data) > FILE_LIMIT else data


def parse_outputs(text: str) -> dict[str, str]:
    return parse(text).values


def parse_head(text: str) -> dict[str, str]:
    """The outputs in the first ``FILE_LIMIT + 1`` bytes of a file (what a host sends back,
    ``head -c``): past the limit, only the whole lines within it."""
    data = text.encode("utf-8", "replace")
    return parse_outputs(_whole_lines(data).decode("utf-8", "replace"))


def read_noted(path: Path) -> Outputs:
    """The outputs in the file at ``path`` (none when it cannot be read: outputs are
    optional), read once: only its first ``FILE_LIMIT`` bytes, whole lines."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(FILE_LIMIT + 1)
            size = os.fstat(handle.fileno()).st_size if len(data) > FILE_LIMIT else None
    except OSError:
        return Outputs({})
    found = parse(_whole_lines(data).decode("utf-8", errors="replace"))
    return dataclasses.replace(found, size=size) if size is not None else found


def read_outputs(path: Path) -> dict[str, str]:
    return read_noted(path).values
