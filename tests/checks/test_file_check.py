from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from phasegate.checks.file import FileCheck
from phasegate.registry import CHECKS_GROUP, load


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "app.txt").write_text("version=1.4.2\nstatus=ready\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("a.log", "b.log", "notes.txt", ".hidden"):
        (logs / name).write_text(name)
    (logs / "old").mkdir()
    (logs / "old" / "c.log").write_text("c")
    return tmp_path


def test_registered_through_its_entry_point() -> None:
    assert load(CHECKS_GROUP, "file") is FileCheck


def test_every_option_is_documented(assert_documented) -> None:
    assert_documented(FileCheck)


def test_exists_by_default(evaluate, tree: Path) -> None:
    assert evaluate(FileCheck, {"file": "app.txt"}).status == "passed"
    missing = evaluate(FileCheck, {"file": "gone.txt"})
    assert missing.status == "failed"
    assert "to exist" in missing.message
    assert missing.observed["exists"] is False


def test_relative_paths_are_relative_to_the_plan_not_the_cwd(
    evaluate, tree: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    observation = evaluate(FileCheck, {"file": "app.txt"}, plan_dir=tree)
    assert observation.status == "passed"
    assert observation.observed["path"] == str(tree / "app.txt")


def test_variables_expand_in_path_and_contains(evaluate, tree: Path) -> None:
    raw = {"file": "${TARGET}/app.txt", "expect": {"contains": "status=${STATE}"}}
    assert evaluate(FileCheck, raw, values={"TARGET": str(tree), "STATE": "ready"}).passed
    assert evaluate(FileCheck, raw, values={"TARGET": str(tree), "STATE": "down"}).status == (
        "failed"
    )


@pytest.mark.parametrize("expect", [{"exists": False}, {"absent": True}])
def test_absent(evaluate, tree: Path, expect: dict[str, bool]) -> None:
    assert evaluate(FileCheck, {"file": "gone.txt", "expect": expect}).passed
    present = evaluate(FileCheck, {"file": "app.txt", "expect": expect})
    assert present.status == "failed"
    assert "absent" in present.message and "found a file" in present.message


def test_kind(evaluate, tree: Path) -> None:
    assert evaluate(FileCheck, {"file": "logs", "expect": {"kind": "dir"}}).passed
    assert evaluate(FileCheck, {"file": "app.txt", "expect": {"kind": "file"}}).passed
    wrong = evaluate(FileCheck, {"file": "app.txt", "expect": {"kind": "dir"}})
    assert wrong.status == "failed"
    assert "to be a dir; found a file" in wrong.message


def test_min_size(evaluate, tree: Path) -> None:
    assert evaluate(FileCheck, {"file": "app.txt", "expect": {"min_size": 10}}).passed
    small = evaluate(FileCheck, {"file": "app.txt", "expect": {"min_size": 1000}})
    assert small.status == "failed"
    assert "at least 1000 bytes; it has 27" in small.message
    on_dir = evaluate(FileCheck, {"file": "logs", "expect": {"min_size": 1}})
    assert on_dir.status == "failed"
    assert "needs a regular file" in on_dir.message


def test_sha256(evaluate, tree: Path) -> None:
    digest = hashlib.sha256((tree / "app.txt").read_bytes()).hexdigest()
    assert evaluate(FileCheck, {"file": "app.txt", "expect": {"sha256": digest.upper()}}).passed
    wrong = evaluate(FileCheck, {"file": "app.txt", "expect": {"sha256": "0" * 64}})
    assert wrong.status == "failed"
    assert wrong.observed["sha256"] == digest
    assert digest in wrong.message


def test_contains(evaluate, tree: Path) -> None:
    assert evaluate(FileCheck, {"file": "app.txt", "expect": {"contains": "ready"}}).passed
    absent = evaluate(FileCheck, {"file": "app.txt", "expect": {"contains": "failed"}})
    assert absent.status == "failed"
    assert "to contain 'failed'; it does not" in absent.message


def test_contains_finds_text_across_read_chunks(evaluate, tmp_path: Path) -> None:
    needle = b"MARKER-ACROSS-THE-BORDER"
    (tmp_path / "big.bin").write_bytes(b"x" * ((1 << 20) - 10) + needle + b"y" * 100)
    raw = {"file": "big.bin", "expect": {"contains": needle.decode()}}
    assert evaluate(FileCheck, raw).passed


def test_count_entries(evaluate, tree: Path) -> None:
    # a.log, b.log, notes.txt, .hidden, old/
    assert evaluate(FileCheck, {"file": "logs", "expect": {"count": 5}}).passed
    eight = evaluate(FileCheck, {"file": "logs", "expect": {"count": 8}})
    assert eight.status == "failed"
    assert eight.observed["count"] == 5
    assert "expected 8 entries matching '*'" in eight.message and "found 5" in eight.message
    assert evaluate(FileCheck, {"file": "logs", "expect": {"count": {">=": 3, "<": 6}}}).passed


def test_count_with_glob(evaluate, tree: Path) -> None:
    raw = {"file": "logs", "expect": {"glob": "*.log", "count": 2}}
    assert evaluate(FileCheck, raw).passed
    raw = {"file": "logs", "expect": {"glob": "**/*.log", "count": {">=": 3}}}
    assert evaluate(FileCheck, raw).passed


def test_glob_alone_means_at_least_one(evaluate, tree: Path) -> None:
    assert evaluate(FileCheck, {"file": "logs", "expect": {"glob": "*.log"}}).passed
    none = evaluate(FileCheck, {"file": "logs", "expect": {"glob": "*.gz"}})
    assert none.status == "failed"
    assert "expected >= 1 entries matching '*.gz'" in none.message


def test_count_on_a_file_fails(evaluate, tree: Path) -> None:
    observation = evaluate(FileCheck, {"file": "app.txt", "expect": {"count": 1}})
    assert observation.status == "failed"
    assert "needs a directory" in observation.message


def test_a_path_that_cannot_be_looked_at_is_an_error(evaluate, tmp_path: Path) -> None:
    observation = evaluate(FileCheck, {"file": "x" * 5000})
    assert observation.status == "error"
    assert "cannot stat" in observation.message


@pytest.mark.parametrize(
    "raw",
    [
        {"file": "a", "expect": {"exist": True}},
        {"file": "a", "exepct": {}},
        {"file": "a", "expect": {"count": {">>": 3}}},
        {"file": "a", "expect": {"count": {"files": 3}}},
        {"file": "a", "expect": {"count": "many"}},
        {"file": "a", "expect": {"count": {"between": [1]}}},
        {"file": "a", "expect": {"sha256": "abc"}},
        {"file": "a", "expect": {"kind": "socket"}},
        {"file": "a", "expect": {"absent": True, "min_size": 3}},
        {"file": "a", "expect": {"exists": True, "absent": True}},
        {"file": ""},
    ],
)
def test_invalid_options_fail_at_plan_load(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FileCheck.model_validate(raw)


def test_bad_operator_names_the_operators() -> None:
    with pytest.raises(ValidationError, match="unknown operator '>>'"):
        FileCheck.model_validate({"file": "a", "expect": {"count": {">>": 3, ">=": 1}}})


def test_words_for_reports() -> None:
    check = FileCheck.model_validate(
        {"file": "logs", "expect": {"kind": "dir", "glob": "*.log", "count": {">=": 8}}}
    )
    assert check.describe() == "file logs"
    assert check.expectation() == "dir, *.log entries >= 8"
    assert FileCheck.model_validate({"file": "x", "expect": {"absent": True}}).expectation() == (
        "absent"
    )
