"""Shared by the policy tests: the starter pack, the catalogue of violating plans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phasegate.policy import Pack, load_pack

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "policies" / "starter"
CATALOGUE = Path(__file__).parent / "catalogue"
EXPECT = re.compile(r"^# expect: (\S+) (\S+)$", re.M)


def expected(path: Path) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in EXPECT.finditer(path.read_text())}


@pytest.fixture(scope="session")
def starter() -> Pack:
    return load_pack(STARTER)
