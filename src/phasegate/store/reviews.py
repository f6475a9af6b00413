"""Reviews of Markdown documents: who looked at what an import would do, and when (issue 11 §13).

A record is keyed by the sha256 of the document's bytes, so it vouches for exactly the text
that was shown: one changed byte is another document that needs its own review. Records live
beside the journal in the state directory, as one JSON file each in ``reviews/`` (0700
directory, 0600 files, created with those modes, like the journal and the server's keys): a
review is an attestation a person makes once, not an event of a run, so it needs no place in
the run journal's schema, and a file per hash is written atomically with no lock to share.

Like every CLI identity (phasegate.identity), the reviewer is the login of the real uid; anyone
who can write the state directory can forge a record, as they can forge the journal.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

DIRECTORY = "reviews"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Review:
    sha256: str  # of the document's bytes
    document: str  # its absolute path when reviewed (to say "changed since")
    reviewer: str  # login@host (phasegate.identity.actor)
    at: str  # ISO 8601, UTC
    how: str  # "review" (`phasegate review`) or "run" (confirmed on a terminal by `run`)
    plan: str = ""  # the imported plan's name

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _directory(state_dir: Path) -> Path:
    return state_dir / DIRECTORY


def record(state_dir: Path, review: Review) -> Path:
    """Write (or replace) the review of ``review.sha256``; returns the file."""
    if not _SHA256.match(review.sha256):
        raise ValueError(f"not a sha256: {review.sha256!r}")
    directory = _directory(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # as the journal creates it
    directory.mkdir(exist_ok=True, mode=0o700)
    path = directory / f"{review.sha256}.json"
    partial = directory / f".{review.sha256}.{os.getpid()}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, json.dumps(review.as_dict(), indent=2).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)  # a reader sees the old record or the new one, never half
    return path


def find(state_dir: Path, sha256: str) -> Review | None:
    """The review of exactly this document, or None."""
    if not _SHA256.match(sha256):
        return None
    return _read(_directory(state_dir) / f"{sha256}.json")


def earlier(state_dir: Path, document: Path) -> Review | None:
    """The newest review of another version of the document at this path, if any: what lets
    a refusal say "it changed since X reviewed it" instead of "never reviewed"."""
    directory = _directory(state_dir)
    if not directory.is_dir():
        return None
    wanted = str(document.resolve())
    found = [r for p in directory.glob("*.json") if (r := _read(p)) and r.document == wanted]
    return max(found, key=lambda r: r.at, default=None)


def _read(path: Path) -> Review | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Review(**{k: str(data[k]) for k in Review.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError):
        return None  # unreadable or not ours: as if not reviewed (asks again, never runs)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
