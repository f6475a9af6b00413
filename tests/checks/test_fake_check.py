from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from phasegate.checks.fake import FakeCheck
from phasegate.registry import CHECKS_GROUP, names


def test_returns_the_script_in_order_then_repeats_the_last(make_ctx) -> None:
    check = FakeCheck.model_validate({"fake": ["error", "failed", "passed"]})
    ctx = make_ctx()
    seen = [asyncio.run(check.evaluate(ctx)).status for _ in range(5)]
    assert seen == ["error", "failed", "passed", "passed", "passed"]
    assert check.evaluations == 5


def test_each_instance_counts_its_own_evaluations(make_ctx) -> None:
    first = FakeCheck.model_validate({"fake": ["failed", "passed"]})
    second = FakeCheck.model_validate({"fake": ["failed", "passed"]})
    asyncio.run(first.evaluate(make_ctx()))
    assert asyncio.run(second.evaluate(make_ctx())).status == "failed"


@pytest.mark.parametrize("raw", [{"fake": []}, {"fake": ["maybe"]}, {"fake": ["passed"], "x": 1}])
def test_invalid_scripts_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FakeCheck.model_validate(raw)


def test_is_not_a_registered_kind() -> None:
    assert "fake" not in names(CHECKS_GROUP)
