"""The five seeds' imports, pinned. After an intended mapping change, review the diff of

PHASEGATE_UPDATE_GOLDEN=1 uv run pytest tests/markdown/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phasegate.markdown import import_markdown_file
from tests import shared

SEEDS = shared.SHARED / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden"
DOCUMENTS = sorted(SEEDS.glob("*")) if SEEDS.is_dir() else []


@pytest.mark.skipif(not DOCUMENTS, reason=f"no seeds at {SEEDS}")
@pytest.mark.parametrize("seed", DOCUMENTS, ids=lambda p: p.name[:3])
def test_seed_import_matches_its_golden_file(seed: Path) -> None:
    produced = import_markdown_file(seed).yaml_text
    golden = GOLDEN / f"{seed.name[:3]}.yaml"
    if os.environ.get("PHASEGATE_UPDATE_GOLDEN"):
        golden.write_text(produced, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with PHASEGATE_UPDATE_GOLDEN=1"
    assert produced == golden.read_text(encoding="utf-8")
