"""Email against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, and STARTTLS with login."""

from __future__ import annotations

import importlib.util
import ssl
from pathlib import Path

import pytest

from tests.notify.helpers import deliver, dispatcher, message
from tests.notify.receivers import closed_port, self_signed, smtp_receiver


def test_plain_smtp_delivers_a_readable_message() -> None:
    with smtp_receiver() as rx:
        mail = {
            "host": "127.0.0.1",
            "port": rx.port,
            "from": "phasegate@example.test",
            "to": ["oncall@example.test", "lead@example.test"],
        }
        notes, _ = dispatcher({"mail": {"email": mail}}, link_base="https://pg.example")
        outcome = deliver(notes, "mail", message(notes, "gate.failed", item="deploy/gate:health"))
        assert outcome.ok and outcome.attempts == 1
    [(sender, recipients)] = rx.envelopes
    assert sender == "phasegate@example.test"
    assert recipients == ["oncall@example.test", "lead@example.test"]
    [mail_message] = rx.messages
    assert "gate.failed (critical)" in mail_message["Subject"]
    assert mail_message["X-Phasegate-Run"] == "r-1"
    text = mail_message.get_payload()
    assert "gate.failed happened" in text and "deploy/gate:health" in text
    assert "https://pg.example/runs/r-1" in text


def test_unreachable_server_is_a_failed_delivery() -> None:
    mail = {"host": "127.0.0.1", "port": closed_port(), "from": "a@x.test", "to": ["b@x.test"]}
    notes, _ = dispatcher({"mail": {"email": mail}}, retries=1)
    outcome = deliver(notes, "mail", message(notes))
    assert not outcome.ok and outcome.attempts == 2
    assert outcome.error is not None and "ConnectionRefusedError" in outcome.error


@pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None,
    reason="the STARTTLS test makes its self-signed certificate with `cryptography`, "
    "which is not installed",
)
def test_starttls_with_login_and_a_wrong_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with smtp_receiver(tls_context=context, credentials=("robot", "pa55word!")) as rx:
        mail = {
            "host": "127.0.0.1",
            "port": rx.port,
            "starttls": True,
            "ca_file": str(cert),
            "from": "phasegate@example.test",
            "to": ["oncall@example.test"],
            "username": "robot",
            "password": "${SMTP_PASSWORD}",
        }
        notes, _ = dispatcher({"mail": {"email": mail}})
        notes.channels["mail"] = notes.config.channels["mail"].expanded(
            lambda text: text.replace("${SMTP_PASSWORD}", "pa55word!")
        )
        assert deliver(notes, "mail", message(notes)).ok
        assert rx.logins == ["robot"] and len(rx.messages) == 1

        wrong, _ = dispatcher({"mail": {"email": {**mail, "password": "nope-nope"}}}, retries=3)
        outcome = deliver(wrong, "mail", message(wrong))
    assert not outcome.ok and outcome.attempts == 1  # a refused login is not retried
    assert outcome.error is not None and "login refused" in outcome.error
    assert "nope-nope" not in outcome.error


def test_starttls_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    pytest.importorskip("cryptography", reason="needs `cryptography` for a test certificate")
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with smtp_receiver(tls_context=context) as rx:
        mail = {
            "host": "127.0.0.1",
            "port": rx.port,
            "starttls": True,
            "from": "a@x.test",
            "to": ["b@x.test"],
        }
        notes, _ = dispatcher({"mail": {"email": mail}}, retries=0)
        outcome = deliver(notes, "mail", message(notes))
    assert not outcome.ok and outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert rx.messages == []
