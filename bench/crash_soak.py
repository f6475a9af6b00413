"""Crash soak: 500 SIGKILL-and-resume trials (the test suite runs 30 of the same trials).

uv run python bench/crash_soak.py [--trials 500] [--seed N]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_harness import main

if __name__ == "__main__":
    sys.exit(main())
