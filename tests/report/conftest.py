"""Fixtures for the report tests; the machinery lives in ``helpers``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .helpers import Project


@pytest.fixture(scope="module")
def new_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Project]:
    """Module-scoped, so one real run serves every assertion about its reports."""

    def make(name: str) -> Project:
        return Project(tmp_path_factory.mktemp(name))

    return make
