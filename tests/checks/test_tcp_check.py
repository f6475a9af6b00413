from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from phasegate.checks.tcp import TcpCheck, parse_address
from phasegate.registry import CHECKS_GROUP, load


@pytest.fixture
def listening() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def closed() -> Iterator[str]:
    # Bound but not listening: connections are refused and the port cannot be taken meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_registered_through_its_entry_point() -> None:
    assert load(CHECKS_GROUP, "tcp") is TcpCheck


def test_every_option_is_documented(assert_documented) -> None:
    assert_documented(TcpCheck)


def test_open_port_passes_by_default(evaluate, listening: str) -> None:
    observation = evaluate(TcpCheck, {"tcp": listening})
    assert observation.status == "passed"
    assert observation.observed["open"] is True
    assert observation.message == f"{listening} is open"


def test_closed_port_fails_by_default(evaluate, closed: str) -> None:
    observation = evaluate(TcpCheck, {"tcp": closed})
    assert observation.status == "failed"
    assert observation.observed["open"] is False
    assert observation.message.startswith(f"expected {closed} to be open; ")
    assert "refused" in observation.message.lower()


def test_expect_closed(evaluate, listening: str, closed: str) -> None:
    assert evaluate(TcpCheck, {"tcp": closed, "expect": {"open": False}}).passed
    still_open = evaluate(TcpCheck, {"tcp": listening, "expect": {"open": False}})
    assert still_open.status == "failed"
    assert "to be closed; it accepted a connection" in still_open.message


def test_variables_expand(evaluate, listening: str) -> None:
    host, port = listening.split(":")
    raw = {"tcp": "${HOST}:${PORT}"}
    assert evaluate(TcpCheck, raw, values={"HOST": host, "PORT": port}).passed


def test_an_address_that_is_malformed_once_expanded_is_an_error(evaluate) -> None:
    observation = evaluate(TcpCheck, {"tcp": "${ADDR}"}, values={"ADDR": "localhost"})
    assert observation.status == "error"
    assert "is not HOST:PORT" in observation.message


@pytest.mark.parametrize("host", ["phasegate-test.invalid", "bad..host"])
def test_a_host_that_cannot_be_resolved_is_an_error(evaluate, host: str) -> None:
    observation = evaluate(TcpCheck, {"tcp": f"{host}:80"})
    assert observation.status == "error"
    assert "cannot resolve" in observation.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:80", ("127.0.0.1", 80)),
        ("db.internal:5432", ("db.internal", 5432)),
        ("[::1]:8080", ("::1", 8080)),
        (" [fe80::1]:1 ", ("fe80::1", 1)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"tcp": "localhost"},
        {"tcp": "localhost:http"},
        {"tcp": "localhost:0"},
        {"tcp": "localhost:70000"},
        {"tcp": "::1:80"},
        {"tcp": "127.0.0.1:80", "expect": {"open": "maybe"}},
        {"tcp": "127.0.0.1:80", "expect": {"listening": True}},
        {"tcp": "127.0.0.1:80", "port": 80},
    ],
)
def test_invalid_options_fail_at_plan_load(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TcpCheck.model_validate(raw)


def test_words_for_reports() -> None:
    check = TcpCheck.model_validate({"tcp": "db:5432", "expect": {"open": False}})
    assert check.describe() == "tcp db:5432"
    assert check.expectation() == "closed"
