"""What a scheduler does now about one schedule: a pure function of the rule, what was
already handled (``anchor``), the clock and the missed-slots policy.

- The newest slot at or before now, if it was not handled yet, is *on time* when it is at
  most ``ON_TIME`` seconds old: it fires. Older slots not handled since ``anchor`` were
  missed (no server was up, or all were stalled); they never fire on their own.
- A newest slot older than ``ON_TIME`` was missed too. The policy decides: ``skip`` records
  it as missed and nothing runs; ``catch-up-one`` fires one run for it now (marked as a
  catch-up), however many slots were missed, as systemd's ``Persistent=true`` timers do.

Every server on a store computes the same slot (the rule is deterministic, the anchor is the
store's newest claimed slot or the schedule's creation), so their claims collide on one row
and the store lets exactly one through (``JournalStore.claim_slot``).
"""

from __future__ import annotations

from dataclasses import dataclass

from phasegate.schedules.rules import Rule

MISSED_POLICIES = ("skip", "catch-up-one")
# How late a slot may be handled and still count as on time: a server's tick, a busy
# machine or a store that answered slowly, not an outage.
ON_TIME = 60.0


@dataclass(frozen=True)
class Due:
    slot: int | None  # the slot to claim now, None: nothing is due
    fire: bool = False  # start a run for it (else record it as missed)
    catch_up: bool = False  # fired late, for missed slots (``catch-up-one``)
    missed_before: bool = False  # older slots since the anchor were missed


def due(rule: Rule, *, anchor: float, now: float, missed: str, on_time: float = ON_TIME) -> Due:
    """``anchor``: the newest instant already handled (the schedule's newest claimed slot,
    else its creation); only slots strictly after it are due."""
    newest = rule.latest_at_or_before(now)
    if newest is None or newest <= anchor:
        return Due(None)
    previous = rule.latest_at_or_before(newest - 1)
    earlier = previous is not None and previous > anchor
    if now - newest <= on_time:
        return Due(newest, fire=True, missed_before=earlier)
    if missed == "catch-up-one":
        return Due(newest, fire=True, catch_up=True, missed_before=earlier)
    return Due(newest, fire=False, missed_before=earlier)
