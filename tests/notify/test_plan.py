"""The plan's `notify:` block: valid forms load, mistakes are reported at their file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phasegate.errors import PlanError
from phasegate.notify.email import EmailNotifier
from phasegate.notify.slack import SlackNotifier
from phasegate.plan.loader import load_plan_text

HEAD = """\
version: 1
name: web
vars:
  SLACK_WEBHOOK: {env: SLACK_WEBHOOK, secret: true}
  SMTP_PASSWORD: {env: SMTP_PASSWORD, default: x, secret: true}
phases:
  - id: a
    steps: [{run: "true"}]
"""


def load(notify: str) -> object:
    text = HEAD + textwrap.dedent(notify)
    return load_plan_text(text, Path("plan.yaml")).plan


def problems(notify: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load(notify)
    return [f"{p.location()}: {p.message} ({p.hint})" for p in caught.value.problems]


def test_the_documented_block_loads() -> None:
    plan = load(
        """\
        notify:
          channels:
            ops-slack: {slack: {webhook_url: "${SLACK_WEBHOOK}"}}
            mail: {email: {host: smtp.example, port: 587, starttls: true, from: "pg@example",
                           to: [oncall@example], username: u, password: "${SMTP_PASSWORD}"}}
          routes:
            - {events: ["rollback.*", gate.failed], severity: [critical], channels: [ops-slack]}
            - {events: [run.started], min_severity: info, channels: [ops-slack, mail]}
          retries: 2
          timeout: 3s
          link_base: https://pg.example
        """
    )
    notify = plan.notify  # type: ignore[attr-defined]
    assert isinstance(notify.channels["ops-slack"], SlackNotifier)
    assert isinstance(notify.channels["mail"], EmailNotifier)
    assert notify.channels["mail"].sender == "pg@example"
    assert notify.timeout == 3.0 and notify.retries == 2
    assert notify.routes[0].matches("rollback.finished", "critical")
    assert not notify.routes[0].matches("rollback.finished", "warning")


def test_unknown_kind_is_located_with_a_hint() -> None:
    [problem] = problems(
        """\
        notify:
          channels:
            ops: {slak: {webhook_url: x}}
        """
    )
    assert problem.startswith("plan.yaml:11:")
    assert "unknown notifier kind 'slak'" in problem and "slack" in problem


def test_unknown_option_and_missing_option_are_located() -> None:
    found = problems(
        """\
        notify:
          channels:
            ops: {slack: {webhook: x}}
        """
    )
    assert any(p.startswith("plan.yaml:11:") and "webhook" in p for p in found), found


def test_route_naming_an_unknown_channel() -> None:
    [problem] = problems(
        """\
        notify:
          channels:
            ops-slack: {slack: {webhook_url: "${SLACK_WEBHOOK}"}}
          routes:
            - events: [run.started]
              channels: [ops-slak]
        """
    )
    assert problem.startswith("plan.yaml:14:")
    assert "no channel 'ops-slak'" in problem and "ops-slack" in problem


def test_bad_severity_and_unknown_event() -> None:
    found = problems(
        """\
        notify:
          channels:
            ops: {slack: {webhook_url: "${SLACK_WEBHOOK}"}}
          routes:
            - events: [rollback.strated]
              severity: [urgent]
              channels: [ops]
        """
    )
    assert any(p.startswith("plan.yaml:13:") and "rollback.started" in p for p in found), found
    assert any(p.startswith("plan.yaml:14:") and "urgent" in p for p in found), found


def test_undefined_variable_in_a_channel() -> None:
    [problem] = problems(
        """\
        notify:
          channels:
            ops: {slack: {webhook_url: "${SLACK_HOOK}"}}
        """
    )
    assert problem.startswith("plan.yaml:11:") and "undefined variable ${SLACK_HOOK}" in problem
