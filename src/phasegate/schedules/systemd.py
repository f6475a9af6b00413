"""``schedule export --systemd``: a ``.service`` + ``.timer`` pair that runs a schedule's plan
with ``phasegate run`` on hosts without the server (seed 003, Day 1).

The timer's ``OnCalendar=`` is the schedule's rule in systemd's calendar syntax
(systemd.time(7)) with its timezone: cron fields are expanded to the values they match, so
lists, ranges and steps all become ``a,b,c`` / ``a..b`` lists systemd reads the same way.
``Persistent=`` follows the missed-slots policy: ``catch-up-one`` is ``true`` (a timer that
elapsed while the host was down fires once at boot), ``skip`` is ``false``. What systemd
cannot say is refused with a reason: cron's ``L``/``W``/``#``, a day-of-month *and* a
day-of-week (cron fires on either, systemd needs both), an ``every`` that does not divide a
minute, an hour or a day.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cronsim import CronSim

from phasegate.errors import UsageError
from phasegate.schedules.rules import Rule, ScheduleSpec, rule_from_spec

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_PLAIN = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def _values(values: set[Any], full: range) -> str:
    """``*`` for every value, else ``a,b..c`` (runs of consecutive values as ranges)."""
    if set(full) <= values:
        return "*"
    ordered = sorted(int(v) for v in values)
    parts: list[str] = []
    start = prev = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(f"{start:02d}" if start == prev else f"{start:02d}..{prev:02d}")
        if value is not None:
            start = prev = value
    return ",".join(parts)


def on_calendar(rule: Rule) -> str:
    """The rule as an ``OnCalendar=`` value; a usage error for what systemd cannot say."""
    if rule.every is not None:
        return _every(rule)
    assert rule.cron is not None
    sim = CronSim(rule.cron, datetime.now(UTC))
    if any(not isinstance(v, int) or v < 0 for v in (*sim.days, *sim.weekdays)):
        raise _cannot(rule, "L, W and # have no systemd equivalent")
    fields = rule.cron.split()
    if not sim.day_and and fields[2] != "*" and fields[4] != "*":
        raise _cannot(
            rule, "cron fires on the day of month OR the weekday; systemd needs both to match"
        )
    weekdays = {v % 7 for v in sim.weekdays if isinstance(v, int)}
    days = "" if len(weekdays) == 7 else ",".join(_DAYS[d] for d in sorted(weekdays)) + " "
    date = f"*-{_values(sim.months, range(1, 13))}-{_values(sim.days, range(1, 32))}"
    time = f"{_values(sim.hours, range(24))}:{_values(sim.minutes, range(60))}:00"
    return f"{days}{date} {time} {rule.timezone}"


def _every(rule: Rule) -> str:
    seconds = rule.every
    assert seconds is not None
    if seconds < 60 and 60 % seconds == 0:
        return f"*-*-* *:*:00/{seconds} UTC"
    if seconds % 60 == 0 and seconds < 3600 and 60 % (seconds // 60) == 0:
        return f"*-*-* *:00/{seconds // 60}:00 UTC"
    if seconds % 3600 == 0 and seconds < 86400 and 24 % (seconds // 3600) == 0:
        return f"*-*-* 00/{seconds // 3600}:00:00 UTC"
    if seconds == 86400:
        return "*-*-* 00:00:00 UTC"
    raise _cannot(rule, "an interval systemd's calendar can say divides a minute, hour or day")


def _cannot(rule: Rule, why: str) -> UsageError:
    return UsageError(
        f"{rule.describe()}: cannot be written as a systemd OnCalendar: {why}",
        hint="schedule it with a rule systemd can say (e.g. --cron '0 2 * * 1-5'), "
        "or keep it on `phasegate serve`",
    )


def exec_quote(arg: str) -> str:
    """One argument of ``ExecStart=``: systemd's quoting, ``%`` and ``$`` escaped (they are
    specifiers and variables there)."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if _PLAIN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def units(
    name: str, spec: ScheduleSpec, *, state_dir: Path, store_url: str | None = None
) -> dict[str, str]:
    """``{"NAME.service": text, "NAME.timer": text}`` for the stored schedule ``spec``."""
    rule = rule_from_spec(spec)
    calendar = on_calendar(rule)
    plan = Path(str(spec["plan"]))
    argv = [sys.executable, "-m", "phasegate", "run", str(plan), "--schedule", name, "--quiet"]
    for key, value in sorted(dict(spec.get("vars") or {}).items()):
        argv += ["--var", f"{key}={value}"]
    environment = [f"Environment={exec_quote('PHASEGATE_HOME=' + str(state_dir))}"]
    if store_url:
        # The URL may carry a password: it stays out of the unit (readable by every user
        # through `systemctl cat`); the operator supplies it through an EnvironmentFile.
        environment.append(f"EnvironmentFile=-/etc/phasegate/{name}.env")
    persistent = "true" if spec.get("missed") == "catch-up-one" else "false"
    service = "\n".join(
        [
            "[Unit]",
            f"Description=phasegate schedule {name}: run {plan.name}",
            "",
            "[Service]",
            "Type=oneshot",
            f"WorkingDirectory={exec_quote(str(plan.parent))}",
            *environment,
            "ExecStart=" + " ".join(exec_quote(a) for a in argv),
            "",
        ]
    )
    timer = "\n".join(
        [
            "[Unit]",
            f"Description=phasegate schedule {name}: {rule.describe()}",
            "",
            "[Timer]",
            f"OnCalendar={calendar}",
            f"Persistent={persistent}",
            # The default accuracy is a minute; a schedule's slot is to the second.
            "AccuracySec=1s",
            f"Unit={name}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    return {f"{name}.service": service, f"{name}.timer": timer}
