"""The server's ledger (``ServerLedger``: tokens, idempotency keys), on every back end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phasegate.errors import IdempotencyConflict
from phasegate.server.tokens import TokenStore
from phasegate.store.contract import ServerLedger
from phasegate.store.memory_ledger import MemoryLedger
from phasegate.store.postgres import PostgresLedger
from phasegate.store.records import StoredToken
from phasegate.store.server_db import ServerDb
from tests.store.pg_cluster import database_url

LEDGERS: dict[str, Callable[[Path], ServerLedger]] = {
    "memory": lambda _: MemoryLedger(),
    "postgres": lambda state_dir: PostgresLedger(database_url(state_dir)),
    "sqlite": ServerDb,
}


@pytest.fixture(params=sorted(LEDGERS))
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerLedger]:
    opened = LEDGERS[request.param](tmp_path / "state")
    yield opened
    if isinstance(opened, PostgresLedger):
        opened.close()  # its connections (one per thread that used it)


def _token(name: str, key_id: str, created_at: float = 1000.0) -> StoredToken:
    return StoredToken(name, "operator", key_id, f"pbkdf2_sha256$1$00${name}", created_at)


def test_tokens_are_stored_found_and_revoked(ledger: ServerLedger) -> None:
    assert ledger.add_token(_token("bob", "b0b000000000"))
    assert ledger.add_token(_token("ana", "a0a000000000", 1001.0))
    assert not ledger.add_token(_token("bob", "ffffffffffff"))  # a name is taken once
    assert [t.name for t in ledger.tokens()] == ["ana", "bob"]
    assert ledger.token_by_key_id("b0b000000000") == _token("bob", "b0b000000000")
    assert ledger.token_by_key_id("ffffffffffff") is None  # the refused one stored nothing
    assert ledger.token_named("ana") == _token("ana", "a0a000000000", 1001.0)
    assert ledger.revoke_token("bob") and not ledger.revoke_token("bob")
    assert ledger.token_named("bob") is None and ledger.token_by_key_id("b0b000000000") is None
    assert [t.name for t in ledger.tokens()] == ["ana"]


def test_a_token_verifies_until_revoked(ledger: ServerLedger) -> None:
    tokens = TokenStore(ledger)
    secret = tokens.create("ci", "viewer")
    found = tokens.verify(secret)
    assert found is not None and (found.name, found.role) == ("ci", "viewer")
    assert tokens.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert ledger.token_named("ci") is not None
    # The secret part (after "pg_KEYID_"; base64url, which may itself hold "_") is not stored.
    assert secret.split("_", 2)[2] not in ledger.token_named("ci").hash  # type: ignore[union-attr]
    tokens.revoke("ci")
    assert tokens.verify(secret) is None


def test_an_idempotency_key_creates_once_per_caller(ledger: ServerLedger) -> None:
    made: list[str] = []

    def create() -> tuple[str, bool]:
        made.append(f"run{len(made)}")
        return made[-1], True

    assert ledger.run_once("token:a", "k", "body-1", create) == ("run0", True)
    assert ledger.run_once("token:a", "k", "body-1", create) == ("run0", False)
    assert ledger.run_once("token:b", "k", "body-1", create) == ("run1", True)  # scoped
    with pytest.raises(IdempotencyConflict, match="'k' was used for run run0 with another"):
        ledger.run_once("token:a", "k", "body-2", create)
    assert made == ["run0", "run1"]


def test_a_failed_create_records_nothing(ledger: ServerLedger) -> None:
    def fail() -> tuple[str, bool]:
        raise RuntimeError("plan did not load")

    with pytest.raises(RuntimeError):
        ledger.run_once("token:a", "k", "body-1", fail)
    assert ledger.run_once("token:a", "k", "body-2", lambda: ("run9", True)) == ("run9", True)


def test_racing_starts_with_one_key_create_one_run(ledger: ServerLedger) -> None:
    made: list[int] = []
    results: list[tuple[str, bool]] = []
    start = threading.Barrier(8)

    def create() -> tuple[str, bool]:
        made.append(1)
        return "only", True

    def request() -> None:
        start.wait()
        results.append(ledger.run_once("token:a", "same", "body", create))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1]
    assert sorted(results) == [("only", False)] * 7 + [("only", True)]
