"""Slack, webhook and PagerDuty against a real local HTTP receiver: payload shapes, the
HMAC signature, retries with backoff, and failures that stay data."""

from __future__ import annotations

import json

from phasegate.notify.events import Notice
from phasegate.notify.webhook import verify
from phasegate.run.events import NotificationFailed
from tests.notify.helpers import deliver, dispatcher, message
from tests.notify.receivers import closed_port, http_receiver


def test_slack_payload_has_text_and_blocks() -> None:
    with http_receiver() as rx:
        url = f"{rx.url}/services/T000/B000/XXXXSECRET"
        notes, _ = dispatcher(
            {"ops": {"slack": {"webhook_url": url}}}, link_base="https://pg.example/"
        )
        outcome = deliver(notes, "ops", message(notes, "gate.failed"))
        assert outcome.ok and outcome.attempts == 1 and outcome.status_code == 200
        [request] = rx.requests
    assert request.path == "/services/T000/B000/XXXXSECRET"
    body = request.json()
    assert "gate.failed" in body["text"] and "gate.failed happened" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert "https://pg.example/runs/r-1" in json.dumps(body["blocks"])
    assert "XXXXSECRET" not in notes.channels["ops"].describe()


def test_webhook_is_signed_over_the_exact_body() -> None:
    with http_receiver() as rx:
        notes, _ = dispatcher(
            {
                "audit": {
                    "webhook": {
                        "url": rx.url + "/hook",
                        "secret": "s3cret-key",
                        "headers": {"X-Team": "web"},
                    }
                }
            }
        )
        msg = message(notes, "rollback.finished", status="rolled_back")
        assert deliver(notes, "audit", msg).ok
        [request] = rx.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-phasegate-event"] == "rollback.finished"
    assert headers["x-phasegate-delivery"] == msg.id
    assert headers["x-team"] == "web"
    stamp, sig = headers["x-phasegate-timestamp"], headers["x-phasegate-signature"]
    assert sig.startswith("sha256=")
    assert verify("s3cret-key", stamp, request.body, sig)
    assert not verify("other-key", stamp, request.body, sig)
    assert not verify("s3cret-key", stamp, request.body + b" ", sig)
    assert not verify("s3cret-key", str(int(stamp) - 3600), request.body, sig)  # replayed
    body = request.json()
    assert body["version"] == 1 and body["run_id"] == "r-1" and body["plan"] == "web"
    assert body["event"] == "rollback.finished" and body["details"]["status"] == "rolled_back"


def test_retries_on_500_then_succeeds() -> None:
    with http_receiver() as rx:
        rx.statuses = [500, 503]
        notes, _ = dispatcher({"audit": {"webhook": {"url": rx.url}}}, retries=3)
        msg = message(notes)
        outcome = deliver(notes, "audit", msg)
        assert outcome.ok and outcome.attempts == 3 and outcome.status_code == 200
        ids = {r.headers.get("X-Phasegate-Delivery") for r in rx.requests}
    assert len(rx.requests) == 3 and ids == {msg.id}  # one delivery id across retries


def test_client_errors_are_not_retried() -> None:
    with http_receiver() as rx:
        rx.default = 400
        notes, _ = dispatcher({"audit": {"webhook": {"url": rx.url}}}, retries=3)
        outcome = deliver(notes, "audit", message(notes))
    assert not outcome.ok and outcome.attempts == 1 and outcome.status_code == 400
    assert outcome.error is not None and "HTTP 400" in outcome.error


def test_receiver_down_fails_after_every_retry_with_the_url_redacted() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hooks/T1/B2/tok-abcdef?key=zz"
    notes, _ = dispatcher({"ops": {"slack": {"webhook_url": url}}}, retries=2)
    outcome = deliver(notes, "ops", message(notes))
    assert not outcome.ok and outcome.attempts == 3
    assert outcome.error is not None
    assert "tok-abcdef" not in outcome.error and "zz" not in outcome.error.split("/***")[-1]
    assert "127.0.0.1" in outcome.error
    event = outcome.as_event()
    assert isinstance(event, NotificationFailed)
    assert (event.channel, event.kind, event.attempts) == ("ops", "slack", 3)
    assert event.to_json()["error"] == outcome.error


def test_pagerduty_triggers_and_resolves_one_incident_per_run() -> None:
    with http_receiver() as rx:
        pager = {"pagerduty": {"routing_key": "R0UTINGKEY", "url": rx.url + "/v2/enqueue"}}
        notes, _ = dispatcher({"pager": pager})
        assert deliver(notes, "pager", message(notes, "rollback.started")).ok
        done = message(notes, "rollback.finished", status="rolled_back")
        assert deliver(notes, "pager", done).ok
        requests = rx.by_path("/v2/enqueue")
    trigger, resolve = (r.json() for r in requests)
    assert trigger["routing_key"] == "R0UTINGKEY" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "phasegate-r-1"
    payload = trigger["payload"]
    assert payload["severity"] == "critical" and payload["source"]
    assert "rollback.started happened" in payload["summary"]
    assert payload["custom_details"]["run_id"] == "r-1"
    assert resolve == {
        "routing_key": "R0UTINGKEY",
        "event_action": "resolve",
        "dedup_key": "phasegate-r-1",
    }


def test_pagerduty_keeps_a_failed_rollback_open_and_skips_info() -> None:
    with http_receiver() as rx:
        notes, _ = dispatcher({"pager": {"pagerduty": {"routing_key": "key", "url": rx.url}}})
        failed = message(notes, "rollback.finished", status="rollback_failed")
        assert deliver(notes, "pager", failed).ok
        started = notes.message(Notice("run.started", "info", "started"), 0.0)
        skipped = deliver(notes, "pager", started)
        assert skipped.ok and skipped.detail.startswith("skipped")
        assert [r.json()["event_action"] for r in rx.requests] == ["trigger"]


def test_secrets_are_masked_in_messages() -> None:
    with http_receiver() as rx:
        notes, _ = dispatcher({"audit": {"webhook": {"url": rx.url}}}, secrets=("hunter22",))
        msg = message(notes, "gate.failed", message="login with hunter22 refused")
        assert deliver(notes, "audit", msg).ok
        [request] = rx.requests
    assert b"hunter22" not in request.body and b"***" in request.body
