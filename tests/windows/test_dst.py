"""Windows across the 2026 DST changes (issue 13 §1): rules are wall-clock rules, a skipped
local hour never happens, a repeated one happens twice, and next open/close land on the
instant the local clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from phasegate.plan.windows import Windows
from phasegate.windows import is_open, next_close, next_open


def windows(**rules: Any) -> Windows:
    return Windows.model_validate(rules)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_new_york_spring_forward_2026_03_08() -> None:
    # 02:00 EST -> 03:00 EDT at 07:00 UTC.
    late_night = windows(timezone="America/New_York", allow=[{"hours": "02:30-05:00"}])
    # 01:59 EST is closed; the clock jumps to 03:00 EDT, inside the range: open at the jump.
    assert next_open(late_night, utc(2026, 3, 8, 6, 0), "low") == utc(2026, 3, 8, 7, 0)
    skipped = windows(timezone="America/New_York", allow=[{"hours": "02:00-03:00"}])
    # The hour does not exist that day: the next opening is the next night's 02:00 EDT.
    assert next_open(skipped, utc(2026, 3, 8, 5, 0), "low") == utc(2026, 3, 9, 6, 0)
    early = windows(timezone="America/New_York", allow=[{"hours": "01:00-02:30"}])
    assert next_open(early, utc(2026, 3, 8, 5, 0), "low") == utc(2026, 3, 8, 6, 0)
    assert next_close(early, utc(2026, 3, 8, 6, 0), "low") == utc(2026, 3, 8, 7, 0)
    office = windows(timezone="America/New_York", allow=[{"hours": "09:00-16:00"}])
    assert next_open(office, utc(2026, 3, 7, 22, 0), "low") == utc(2026, 3, 8, 13, 0)
    assert next_open(office, utc(2026, 3, 7, 0, 0), "low") == utc(2026, 3, 7, 14, 0)


def test_new_york_fall_back_2026_11_01() -> None:
    # 02:00 EDT -> 01:00 EST at 06:00 UTC: 01:00-02:00 local happens twice.
    deny = windows(timezone="America/New_York", deny=[{"hours": "01:00-02:00", "reason": "x"}])
    assert not is_open(deny, utc(2026, 11, 1, 5, 30), "low").open  # 01:30 EDT
    assert not is_open(deny, utc(2026, 11, 1, 6, 30), "low").open  # 01:30 EST
    assert next_open(deny, utc(2026, 11, 1, 5, 0), "low") == utc(2026, 11, 1, 7, 0)
    assert next_close(deny, utc(2026, 11, 1, 4, 0), "low") == utc(2026, 11, 1, 5, 0)
    office = windows(timezone="America/New_York", allow=[{"hours": "09:00-16:00"}])
    assert next_open(office, utc(2026, 10, 31, 22, 0), "low") == utc(2026, 11, 1, 14, 0)
    assert next_close(office, utc(2026, 11, 1, 14, 0), "low") == utc(2026, 11, 1, 21, 0)


def test_berlin_spring_forward_2026_03_29() -> None:
    # 02:00 CET -> 03:00 CEST at 01:00 UTC.
    night = windows(timezone="Europe/Berlin", allow=[{"hours": "02:30-04:00"}])
    assert next_open(night, utc(2026, 3, 29, 0, 0), "low") == utc(2026, 3, 29, 1, 0)
    assert next_close(night, utc(2026, 3, 29, 1, 0), "low") == utc(2026, 3, 29, 2, 0)
    sunday = windows(timezone="Europe/Berlin", allow=[{"days": ["sun"]}])
    # The local day is 23 hours long: it closes at Monday 00:00 CEST = 22:00 UTC.
    assert next_close(sunday, utc(2026, 3, 29, 12, 0), "low") == utc(2026, 3, 29, 22, 0)
    assert next_open(sunday, utc(2026, 3, 27, 12, 0), "low") == utc(2026, 3, 28, 23, 0)


def test_berlin_fall_back_2026_10_25() -> None:
    # 03:00 CEST -> 02:00 CET at 01:00 UTC: 02:00-03:00 local happens twice.
    deny = windows(timezone="Europe/Berlin", deny=[{"hours": "02:00-03:00"}])
    assert not is_open(deny, utc(2026, 10, 25, 0, 30), "low").open  # 02:30 CEST
    assert not is_open(deny, utc(2026, 10, 25, 1, 30), "low").open  # 02:30 CET
    assert next_open(deny, utc(2026, 10, 25, 0, 0), "low") == utc(2026, 10, 25, 2, 0)
    sunday = windows(timezone="Europe/Berlin", allow=[{"days": ["sun"]}])
    # A 25-hour local day: Sunday 00:00 CEST = Sat 22:00 UTC to Monday 00:00 CET = 23:00 UTC.
    assert next_open(sunday, utc(2026, 10, 24, 12, 0), "low") == utc(2026, 10, 24, 22, 0)
    assert next_close(sunday, utc(2026, 10, 25, 12, 0), "low") == utc(2026, 10, 25, 23, 0)


@pytest.mark.parametrize(
    ("zone", "at"),
    [
        ("America/New_York", utc(2026, 3, 8, 6, 59)),
        ("America/New_York", utc(2026, 11, 1, 5, 59)),
        ("Europe/Berlin", utc(2026, 3, 29, 0, 59)),
        ("Europe/Berlin", utc(2026, 10, 25, 0, 59)),
    ],
)
def test_a_window_with_no_rules_never_closes(zone: str, at: datetime) -> None:
    empty = windows(timezone=zone)
    assert is_open(empty, at, None).open
    assert next_open(empty, at, None) == at
    assert next_close(empty, at, None) is None
