from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from phasegate.checks.sql import SqlCheck
from phasegate.registry import CHECKS_GROUP, load

FOREVER = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"


def rows_in(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL, note TEXT, raw BLOB);
            INSERT INTO orders VALUES (1, 10.5, 'first', x'00ff'), (2, -3, 'négatif', NULL),
                                      (3, 7, NULL, NULL);
            CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
            """
        )
        conn.commit()
    return path


def test_registered_through_its_entry_point() -> None:
    assert load(CHECKS_GROUP, "sql") is SqlCheck


def test_every_option_is_documented(assert_documented) -> None:
    assert_documented(SqlCheck)


def test_empty(evaluate, db: Path) -> None:
    raw: dict[str, Any] = {"sql": "SELECT id FROM users", "database": "app.db"}
    assert evaluate(SqlCheck, {**raw, "expect": {"empty": True}}).passed
    negative = {"sql": "SELECT id, total FROM orders WHERE total < 0", "database": "app.db"}
    observation = evaluate(SqlCheck, {**negative, "expect": {"empty": True}})
    assert observation.status == "failed"
    assert observation.observed["rows"] == 1
    assert observation.observed["first_row"] == {"id": 2, "total": -3}
    assert "expected no rows, got 1" in observation.message
    assert "first row: {'id': 2, 'total': -3.0}" in observation.message
    assert evaluate(SqlCheck, {**negative, "expect": {"empty": False}}).passed


def test_rows(evaluate, db: Path) -> None:
    raw: dict[str, Any] = {"sql": "SELECT * FROM orders", "database": "app.db"}
    assert evaluate(SqlCheck, {**raw, "expect": {"rows": 3}}).passed
    assert evaluate(SqlCheck, {**raw, "expect": {"rows": {">=": 2, "<": 10}}}).passed
    wrong = evaluate(SqlCheck, {**raw, "expect": {"rows": 0}})
    assert wrong.status == "failed"
    assert "expected 0 rows, got 3" in wrong.message


def test_scalar(evaluate, db: Path) -> None:
    raw: dict[str, Any] = {"sql": "SELECT count(*) FROM orders", "database": "app.db"}
    ok = evaluate(SqlCheck, {**raw, "expect": {"scalar": 3}})
    assert ok.passed
    assert ok.observed["scalar"] == 3
    assert evaluate(SqlCheck, {**raw, "expect": {"scalar": {">": 0}}}).passed
    wrong = evaluate(SqlCheck, {**raw, "expect": {"scalar": {"<": 1}}})
    assert wrong.status == "failed"
    assert "expected scalar < 1, got 3" in wrong.message
    no_rows = {"sql": "SELECT name FROM users", "database": "app.db", "expect": {"scalar": "x"}}
    assert evaluate(SqlCheck, no_rows).status == "failed"


def test_without_expect_the_query_must_run(evaluate, db: Path) -> None:
    observation = evaluate(SqlCheck, {"sql": "SELECT 1", "database": "app.db"})
    assert observation.passed
    assert observation.message.endswith("1 rows, query runs")


def test_observed_values_are_journal_ready(evaluate, db: Path) -> None:
    raw = {"sql": "SELECT raw, note FROM orders ORDER BY id", "database": "app.db"}
    observation = evaluate(SqlCheck, raw)
    assert observation.observed["first_row"] == {
        "raw": {"base64": "AP8=", "size": 2},
        "note": "first",
    }
    assert observation.observed["columns"] == ["raw", "note"]


def test_relative_database_is_relative_to_the_plan(
    evaluate, db: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    raw = {"sql": "SELECT 1", "database": "app.db"}
    assert evaluate(SqlCheck, raw, plan_dir=db.parent).passed


def test_variables_expand_in_query_and_database(evaluate, db: Path) -> None:
    raw = {
        "sql": "SELECT id FROM orders WHERE total < ${LIMIT}",
        "database": "${DATA}/app.db",
        "expect": {"rows": 1},
    }
    assert evaluate(SqlCheck, raw, values={"LIMIT": "0", "DATA": str(db.parent)}).passed


def test_a_missing_database_file_is_an_error_and_is_not_created(evaluate, tmp_path: Path) -> None:
    observation = evaluate(SqlCheck, {"sql": "SELECT 1", "database": "nope.db"})
    assert observation.status == "error"
    assert "no such database file" in observation.message
    assert not (tmp_path / "nope.db").exists()


def test_a_query_that_fails_is_an_error(evaluate, db: Path) -> None:
    syntax = evaluate(SqlCheck, {"sql": "SELEKT 1", "database": "app.db"})
    assert syntax.status == "error"
    assert "syntax error" in syntax.message
    table = evaluate(SqlCheck, {"sql": "SELECT * FROM nope", "database": "app.db"})
    assert table.status == "error"
    assert "no such table" in table.message


def test_sqlite_files_are_opened_read_only(evaluate, db: Path) -> None:
    observation = evaluate(SqlCheck, {"sql": "DELETE FROM orders", "database": "app.db"})
    assert observation.status == "error"
    assert "readonly" in observation.message
    assert rows_in(db, "orders") == 3


def test_a_query_over_its_time_is_an_error(evaluate, db: Path) -> None:
    observation = evaluate(SqlCheck, {"sql": FOREVER, "database": "app.db", "timeout": "300ms"})
    assert observation.status == "error"
    assert "did not finish" in observation.message or "interrupted" in observation.message


def test_sqlalchemy_url(evaluate, db: Path) -> None:
    raw = {"sql": "SELECT count(*) FROM orders", "database": f"sqlite:///{db}"}
    observation = evaluate(SqlCheck, {**raw, "expect": {"scalar": 3, "rows": 1}})
    assert observation.passed
    assert observation.observed["first_row"] == {"count(*)": 3}


def test_sqlalchemy_sqlite_url_is_relative_to_the_plan(
    evaluate, db: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    raw = {"sql": "SELECT id FROM users", "database": "sqlite:///app.db", "expect": {"empty": True}}
    assert evaluate(SqlCheck, raw, plan_dir=db.parent).passed


def test_sqlalchemy_missing_sqlite_file_is_an_error_and_is_not_created(
    evaluate, tmp_path: Path
) -> None:
    observation = evaluate(SqlCheck, {"sql": "SELECT 1", "database": "sqlite:///nope.db"})
    assert observation.status == "error"
    assert not (tmp_path / "nope.db").exists()


def test_sqlalchemy_changes_are_rolled_back(evaluate, db: Path) -> None:
    raw = {"sql": "DELETE FROM orders", "database": f"sqlite:///{db}"}
    assert evaluate(SqlCheck, raw).passed
    assert rows_in(db, "orders") == 3


@pytest.mark.parametrize(
    ("database", "sql", "words"),
    [
        ("nosuchdialect://u@h/db", "SELECT 1", "no driver"),
        ("sqlite+nosuchdriver:///app.db", "SELECT 1", "no driver"),
        ("postgresql://u@h:notaport/db", "SELECT 1", "invalid database URL"),
        ("sqlite:///app.db", "SELEKT 1", "syntax error"),
    ],
)
def test_sqlalchemy_errors(evaluate, db: Path, database: str, sql: str, words: str) -> None:
    observation = evaluate(SqlCheck, {"sql": sql, "database": database})
    assert observation.status == "error"
    assert words in observation.message


def test_passwords_in_urls_are_hidden(evaluate) -> None:
    check = SqlCheck.model_validate({"sql": "SELECT 1", "database": "nosuch://app:hunter2@db/x"})
    assert "hunter2" not in check.describe()
    observation = evaluate(SqlCheck, {"sql": "SELECT 1", "database": "nosuch://app:hunter2@db/x"})
    assert "hunter2" not in observation.message
    assert "hunter2" not in str(observation.observed)


@pytest.mark.parametrize(
    "raw",
    [
        {"sql": "SELECT 1"},
        {"sql": "SELECT 1", "database": "a.db", "db": "a.db"},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"row": 1}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"rows": "many"}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"rows": {"count": 1}}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"rows": {">>": 1}}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"scalar": {">>": 1, ">": 0}}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"scalar": {"matches": "("}}},
        {"sql": "SELECT 1", "database": "a.db", "expect": {"empty": "perhaps"}},
    ],
)
def test_invalid_options_fail_at_plan_load(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SqlCheck.model_validate(raw)


def test_words_for_reports() -> None:
    check = SqlCheck.model_validate(
        {"sql": "SELECT  *\n FROM t", "database": "a.db", "expect": {"empty": True, "rows": 0}}
    )
    assert check.describe() == "sql on a.db: SELECT * FROM t"
    assert check.expectation() == "no rows, rows 0"
