"""Expectation cells as authors write them."""

from __future__ import annotations

from typing import Any

import pytest

from phasegate.markdown.expect import parse_expectation


@pytest.mark.parametrize(
    ("command", "expected", "check"),
    [
        ("./gate.py G0", "Exit 0", {"command": "./gate.py G0", "expect": {"exit": 0}}),
        ("make check", "exit code 3", {"command": "make check", "expect": {"exit": 3}}),
        ("make check", "returns 0", {"command": "make check", "expect": {"exit": 0}}),
        ("./x --help", "Help text", {"command": "./x --help", "expect": {"exit": 0}}),
        ("grep bad log", "non-zero", {"command": "grep bad log", "expect": {"exit": {">": 0}}}),
        ("ls a/gate.py", "File exists", {"file": "a/gate.py", "expect": {"exists": True}}),
        ("test -e a/b", "exists", {"file": "a/b", "expect": {"exists": True}}),
        ("ls a/b | wc -l", "File exists", {"command": "ls a/b | wc -l", "expect": {"exit": 0}}),
        ("ls specs/P/", "8 files", {"file": "specs/P/", "expect": {"count": 8}}),
        ("ls logs/", "Log files", {"file": "logs/", "expect": {"count": {">=": 1}}}),
        (
            "curl -s http://127.0.0.1:8080/healthz",
            "200 OK",
            {"http": "http://127.0.0.1:8080/healthz", "expect": {"status": 200}},
        ),
        (
            "curl -s -o /dev/null -w '%{http_code}' http://h/x",
            "200 OK",
            {
                "command": "curl -s -o /dev/null -w '%{http_code}' http://h/x",
                "expect": {"exit": 0, "stdout_contains": "200"},
            },
        ),
        (
            "./status.sh",
            '{"status": "ok", "replicas": 3}',
            {
                "command": "./status.sh",
                "expect": {"exit": 0, "json": {"$.status": "ok", "$.replicas": 3}},
            },
        ),
        (
            "./v.sh",
            '"v2.0.0"',
            {"command": "./v.sh", "expect": {"exit": 0, "stdout_contains": "v2.0.0"}},
        ),
        ("./v.sh", "", {"command": "./v.sh", "expect": {"exit": 0}}),
    ],
)
def test_expectation_is_parsed(command: str, expected: str, check: dict[str, Any]) -> None:
    parsed = parse_expectation(command, expected)
    assert parsed.check == check
    assert not parsed.ambiguous


def test_an_unreadable_expectation_is_exit_0_and_marked_ambiguous() -> None:
    parsed = parse_expectation("./x", "the dashboard looks right to Alice")
    assert parsed.check == {"command": "./x", "expect": {"exit": 0}}
    assert parsed.ambiguous


def test_a_count_that_cannot_be_checked_is_ambiguous() -> None:
    parsed = parse_expectation("find . -name '*.log'", "3 files")
    assert parsed.ambiguous
