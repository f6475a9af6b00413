"""Where the shared rollout documents live: ``../shared`` beside the checkout (the layout of
the development workspace), or ``$PHASEGATE_SHARED_DIR``, or ``/work/shared``."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    candidates = [
        os.environ.get("PHASEGATE_SHARED_DIR"),
        str(Path(__file__).resolve().parents[1].parent / "shared"),
        "/work/shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seeds").is_dir():
            return Path(candidate)
    return Path(candidates[1] or "shared")


SHARED = shared_dir()
