"""Notifications: tell people (Slack, a webhook, email, PagerDuty) what a run is doing.

Layers, each small: ``base`` (the Notifier interface and Message), one module per kind
(``slack``, ``webhook``, ``email``, ``pagerduty``, ``fake`` for tests), ``config`` (the plan's
``notify:`` block), ``events`` (journal events -> notification events), ``routing`` (events
-> channels) and ``dispatch`` (background delivery with retries, reporting every outcome to
the journal). A notifier can never fail, slow down or stop a rollout.
"""
