"""The plan's ``notify:`` block: channels (one notifier each), routes, retry policy.

::

    notify:
      channels:
        ops-slack: {slack: {webhook_url: "${SLACK_WEBHOOK}"}}
        pager: {pagerduty: {routing_key: "${PD_KEY}"}}
      routes:
        - {events: ["rollback.*", gate.failed], min_severity: critical, channels: [pager]}
        - {events: ["*"], min_severity: warning, channels: [ops-slack]}
      retries: 3
      timeout: 10s

Every route that matches an event applies (not only the first), and a channel receives an
event at most once however many routes name it: seed 002's alerting table ("critical:
PagerDuty and Slack, warning: Slack") is two routes. The loader (``plan.checkspecs``) turns
each channel mapping into an instance of its kind before this model is validated, so unknown
options are reported at their own line.
"""

from __future__ import annotations

import fnmatch

from pydantic import Field, SerializeAsAny

from phasegate.notify.base import Notifier, Severity, severity_rank
from phasegate.options import Duration, Identifier, Model


class Route(Model):
    """Which events go to which channels."""

    events: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="notification event names; globs allowed (`rollback.*`, `*`)",
    )
    severity: list[Severity] | None = Field(
        None, description="only events of exactly these severities"
    )
    min_severity: Severity = Field("info", description="only events at least this severe")
    channels: list[Identifier] = Field(min_length=1, description="names from `notify.channels`")

    def matches(self, event: str, severity: str) -> bool:
        if self.severity is not None and severity not in self.severity:
            return False
        if severity_rank(severity) < severity_rank(self.min_severity):
            return False
        return any(fnmatch.fnmatchcase(event, pattern) for pattern in self.events)


class Notify(Model):
    channels: dict[Identifier, SerializeAsAny[Notifier]] = Field(
        default_factory=dict,
        description="name -> one key naming the notifier kind (slack, webhook, email, "
        "pagerduty) with its options",
    )
    routes: list[Route] = Field(default_factory=list)
    retries: int = Field(3, ge=0, le=20, description="extra attempts after a failed delivery")
    backoff: Duration = Field(
        1.0, description="delay before the first retry; doubles each attempt, with jitter"
    )
    timeout: Duration = Field(10.0, description="time limit of one delivery attempt")
    link_base: str | None = Field(
        None, description="messages link to LINK_BASE/runs/RUN_ID (e.g. the dashboard's URL)"
    )
