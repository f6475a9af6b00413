"""`matches` with its compiled pattern kept (policy/cel_regex.py) answers exactly as the CEL
binding's own `matches` (Rust's regex): on random patterns and texts (hypothesis), on the
corners where Python's `re` differs (`$` before a final newline, possessive quantifiers,
nested classes, non-ASCII text), and its errors are still the rule's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phasegate.policy import load_pack
from phasegate.policy.cel import CelEngine
from phasegate.policy.cel_regex import accepted, exact_matches, phasegate_matches, rewrite
from phasegate.policy.errors import PolicyPackError


def _answer(fn: Any, subject: Any, pattern: Any) -> bool | str:
    try:
        return bool(fn(subject, pattern))
    except (ValueError, RuntimeError, TypeError):
        return "error"


_SAFE_ATOMS = ["a", "b", "s", "u", "d", "o", " ", ".", "\\s", "\\S", "\\w", "\\W", "\\d", "\\D",
               "\\b", "\\B", "\\n", "\\t", "\\.", "\\|", "\\-", "\\$", "[ab]", "[^a]", "[a-c]",
               "[\\s;]", "[-a]", "[a-]", "[$]", "^", "$", "|", "(", ")", "#", "&", "~"]  # fmt: skip
_ODD_ATOMS = ["[[a]]", "[a&&b]", "[a--b]", "[]a]", "(?i)", "(?:", "\\1", "\\x41", "\\A", "\\z",
              "\\ ", "\\/", "{", "}", "\\{", "é"]  # fmt: skip
_SAFE_QUANTIFIERS = ["", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{2,}"]
_ODD_QUANTIFIERS = ["{,2}", "*+", "++", "?+", "{2}+", "{1000}", "{3,1}"]


def _patterns_of(atoms: list[str], quantifiers: list[str]) -> st.SearchStrategy[str]:
    parts = st.tuples(st.sampled_from(atoms), st.sampled_from(quantifiers))
    return st.lists(parts, max_size=6).map(lambda ps: "".join(a + q for a, q in ps))


# Patterns of the accepted subset (the fast path, mostly), and of anything (the fallback).
_safe_patterns = _patterns_of(_SAFE_ATOMS, _SAFE_QUANTIFIERS)
_patterns = _patterns_of(_SAFE_ATOMS + _ODD_ATOMS, _SAFE_QUANTIFIERS + _ODD_QUANTIFIERS)
_texts = st.text(st.sampled_from(list("absudo \n\t.-|;&$\x1c\x0bé_1")), max_size=12)


@settings(max_examples=400, deadline=None)
@given(_safe_patterns, _texts)
@example("\\B", "")  # Python's \B never matches an empty text; Rust's does
def test_same_answer_on_the_accepted_subset(pattern: str, text: str) -> None:
    assert _answer(phasegate_matches, text, pattern) == _answer(exact_matches, text, pattern)


@settings(max_examples=400, deadline=None)
@given(_patterns, _texts)
@example("a$", "a\n")  # Python's $ also matches before a final newline; Rust's does not
@example("a*+", "aa")  # Python 3.11 reads a possessive quantifier
@example("[[a]]", "a]")  # Rust reads a nested class
@example("\\s", "\x1c")  # Python's str \s includes \x1c-\x1f; Unicode White_Space does not
@example("\\w", "é")  # non-ASCII text
@example("(", "x")  # an invalid pattern is an error both ways
def test_same_answer_as_the_cel_binding(pattern: str, text: str) -> None:
    assert _answer(phasegate_matches, text, pattern) == _answer(exact_matches, text, pattern)


def test_the_starter_packs_patterns_take_the_fast_path() -> None:
    sudo = "(^|[;&|(\\n]\\s*)sudo(\\s|$)"
    curl = "(curl|wget)[^|\\n]*\\|\\s*(sudo\\s+)?(ba|z|da|k)?sh(\\s|$)"
    secret = "(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|token|password)"
    credential = "(AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9-]{10,})"
    for pattern in (sudo, curl, secret, credential):
        assert accepted(pattern) is not None, pattern
    assert accepted("a$") == "a\\Z"
    cases = [
        (sudo, "sudo reboot"),
        (sudo, "echo x; sudo reboot"),
        (sudo, "pseudo reboot"),
        (sudo, "visudo"),
        (curl, "curl -s https://x/i.sh | sh"),
        (curl, "curl -s https://x/i.sh | tee f"),
        (credential, "AKIA" + "A" * 16),
        (credential, "AKIA" + "a" * 16),
    ]
    for pattern, text in cases:
        assert phasegate_matches(text, pattern) == exact_matches(text, pattern), (pattern, text)
    odd = ("\\B", "(?i)a", "a*+", "[[a]]", "[a&&b]", "\\1", "a{,2}", "é", "a{1000}", "\\ ")
    for rejected in odd:
        assert accepted(rejected) is None, rejected


def test_rewrite_touches_member_calls_only() -> None:
    assert rewrite("step.run.matches('x') && s . matches ('y')") == (
        "step.run.phasegate_matches('x') && s . phasegate_matches ('y')"
    )
    # String literals (with escaped quotes, raw and triple-quoted ones) are left alone; the
    # global form matches(s, p) is the binding's own.
    for text in (
        "'.matches(' == x",
        '"a\\".matches(" == x',
        "r'\\'.matches(' == x",
        "'''.matches(\n''' == x",
        "matches(s, 'a')",
    ):
        assert rewrite(text) == text, text
    assert rewrite("'it\\'s'.matches('s') || \".matches(\"") == (
        "'it\\'s'.phasegate_matches('s') || \".matches(\""
    )


def test_a_bad_pattern_is_still_the_rules_error(tmp_path: Path) -> None:
    (tmp_path / "bad.cel.yaml").write_text(
        "rules:\n  - each: steps\n    deny: \"step.run.matches('(')\"\n    message: bad\n"
    )
    engine = CelEngine(load_pack(tmp_path).cel)
    data = {"version": 1, "name": "p", "phases": [{"id": "a", "steps": [{"run": "x"}]}]}
    with pytest.raises(PolicyPackError) as caught:
        engine.evaluate(data, lambda path: False)
    assert "policy bad" in caught.value.message and "cannot be evaluated" in caught.value.message
