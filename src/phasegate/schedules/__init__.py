"""Schedules (issue 13 §2): a plan run on a calendar rule, once per slot across servers.

Map: ``rules`` (cron / every / calendar in a timezone -> slots), ``due`` (what to do now:
fire, catch up or record a miss; pure), ``spec`` (a schedule's stored definition, checked),
``streak`` (consecutive passes of its runs), ``systemd`` (a ``.service`` + ``.timer`` pair for
hosts without the server). The server's scheduler thread (server/scheduler.py) and the CLI
(cli/schedule.py) use them; the store keeps schedules and claimed slots (store/schedules.py).
"""

from phasegate.schedules.due import MISSED_POLICIES, ON_TIME, Due, due
from phasegate.schedules.rules import (
    Rule,
    ScheduleSpec,
    local,
    parse_rule,
    rule_from_spec,
    stored_spec,
    zone,
)

__all__ = [
    "MISSED_POLICIES",
    "ON_TIME",
    "Due",
    "Rule",
    "ScheduleSpec",
    "due",
    "local",
    "parse_rule",
    "rule_from_spec",
    "stored_spec",
    "zone",
]
