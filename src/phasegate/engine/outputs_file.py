"""The ``KEY=VALUE`` lines a command writes to ``$PHASEGATE_OUTPUT`` (as GitHub's
``$GITHUB_OUTPUT``): a step's outputs, kept in its ``item.finished`` event and read by every
later expression, view and report of the run.

Outputs are for values, not data, and they live in the journal, so they are bounded as
GitHub bounds its own (1 MB per output, 50 MB per run): at most ``FILE_LIMIT`` bytes of the
file are read (lines past it are not), a value over ``VALUE_LIMIT`` bytes is left out (never
cut: a shortened value would be a wrong one), and at most ``KEYS_LIMIT`` keys are kept. An
output left out is absent: an expression that reads it fails as for any missing output,
and ``oversize_note`` says why in the step's log and on the terminal."""

from __future__ import annotations

from pathlib import Path

FILE_LIMIT = 1 << 20
VALUE_LIMIT = 64 << 10
KEYS_LIMIT = 1_000


def parse_outputs(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; the last one of a key wins; within the limits above."""
    outputs: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name or len(value.encode("utf-8", "replace")) > VALUE_LIMIT:
            continue
        if name not in outputs and len(outputs) >= KEYS_LIMIT:
            continue
        outputs[name] = value
    return outputs


def parse_head(text: str) -> dict[str, str]:
    """The outputs in the first ``FILE_LIMIT + 1`` bytes of a file (what a host sends back,
    ``head -c``): past the limit, only the whole lines within it (a line cut by the limit
    would be a shortened value)."""
    data = text.encode("utf-8", "replace")
    if len(data) > FILE_LIMIT:
        text = data[:FILE_LIMIT].rpartition(b"\n")[0].decode("utf-8", "replace")
    return parse_outputs(text)


def read_outputs(path: Path) -> dict[str, str]:
    """The outputs in the file at ``path`` (none when it cannot be read: outputs are
    optional); only its first ``FILE_LIMIT`` bytes, whole lines."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(FILE_LIMIT + 1)
    except OSError:
        return {}
    if len(data) > FILE_LIMIT:
        data = data[:FILE_LIMIT].rpartition(b"\n")[0]
    return parse_outputs(data.decode("utf-8", errors="replace"))


def oversize_note(path: Path) -> str | None:
    """What the limits left out of the file at ``path``, in words; None when nothing."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            data = handle.read(FILE_LIMIT + 1)
    except OSError:
        return None
    said = []
    if size > FILE_LIMIT:
        said.append(
            f"its {size} bytes are over the {FILE_LIMIT}-byte limit: lines past it not read"
        )
    text = data[:FILE_LIMIT].decode("utf-8", errors="replace")
    big = sorted(
        {
            name.strip()
            for name, sep, value in (line.partition("=") for line in text.splitlines())
            if sep and name.strip() and len(value.encode("utf-8", "replace")) > VALUE_LIMIT
        }
    )
    if big:
        said.append(f"values over {VALUE_LIMIT} bytes left out: {', '.join(big[:10])}")
    keys = {line.partition("=")[0].strip() for line in text.splitlines() if "=" in line}
    if len(keys) > KEYS_LIMIT:
        said.append(f"{len(keys)} keys, only the first {KEYS_LIMIT} kept")
    if not said:
        return None
    return (
        "$PHASEGATE_OUTPUT: " + "; ".join(said) + " (outputs are for values: write data to a file)"
    )
