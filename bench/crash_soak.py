"""Crash soak (issue 10 §2.2): SIGKILL the engine at random moments of real runs, resume at
once, and report duplicated side effects (must be 0), lost or phantom effects (0), unknowns the
step supervisor resolved automatically and unknowns left for a human. The test suite runs a
few of the same trials (tests/engine/test_crash.py).

    uv run python bench/crash_soak.py [--trials 500] [--minutes 15] [--seed N] [--json FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_harness import main

if __name__ == "__main__":
    sys.exit(main())
